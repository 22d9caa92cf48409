/**
 * Types of the undici modules http-connections.ts loads one by one (undici publishes types for
 * its index only): CommonJS modules, whose exports are the classes and functions its index
 * exports.
 */
declare module "undici/lib/dispatcher/agent.js" {
  import type { Agent } from "undici";

  const AgentClass: typeof Agent;
  export = AgentClass;
}

declare module "undici/lib/dispatcher/proxy-agent.js" {
  import type { ProxyAgent } from "undici";

  const ProxyAgentClass: typeof ProxyAgent;
  export = ProxyAgentClass;
}

declare module "undici/lib/dispatcher/dispatcher.js" {
  import type { Dispatcher } from "undici";

  const DispatcherClass: typeof Dispatcher;
  export = DispatcherClass;
}

declare module "undici/lib/api/index.js" {
  const api: Record<string, unknown>;
  export = api;
}
