export type { ResolvedSettings, SettingsInput } from "./load.ts";
export { findProjectDir, resolveSettings, userConfigFile } from "./load.ts";
export type { SettingKey, SettingSource, SettingSpec, Settings, SettingType } from "./schema.ts";
export { SETTINGS, settingSpec } from "./schema.ts";
