/** The package sets of the speed benchmarks (bench/speed.ts, bench/ab.ts). */
export const SETS: Record<string, string[]> = {
  web: [
    "fastapi",
    "uvicorn[standard]",
    "sqlalchemy",
    "alembic",
    "pydantic-settings",
    "httpx",
    "boto3",
    "pandas",
    "numpy",
    "requests",
    "rich",
    "typer",
  ],
  data: ["numpy", "scipy", "pandas", "opencv-python-headless", "pillow"],
  /** a quick smoke set, not in the default run */
  tiny: ["requests", "rich"],
};
