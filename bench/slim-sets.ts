/**
 * What bench:slim and the slimming end-to-end tests install and run: the package sets, the
 * small programs (deterministic output from each package), and where the interpreter and the
 * torch wheel come from.
 */
import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The data stack: numpy, scipy, pandas, opencv-python-headless, pillow. */
export const SLIM_SET: readonly string[] = [
  "numpy",
  "scipy",
  "pandas",
  "opencv-python-headless",
  "pillow",
];

/** The small program: deterministic output from each package of the set. */
export const SLIM_PROGRAM = `import hashlib
import numpy as np
import scipy.linalg
import pandas as pd
from PIL import Image
import cv2

rng = np.random.default_rng(42)
a = rng.standard_normal((64, 64))
b = a @ a.T + 64 * np.eye(64)
print("numpy", np.round(b.trace(), 6), np.round(np.linalg.det(b[:4, :4]), 6), np.round(np.sort(np.linalg.eigvalsh(b))[:3], 6).tolist())
x = scipy.linalg.solve(b, np.arange(64.0))
print("scipy", np.round(x[:5], 9).tolist(), bool(np.allclose(b @ x, np.arange(64.0))))
df = pd.DataFrame({"k": ["a", "b", "c", "a", "b", "a"], "v": [1, 2, 3, 4, 5, 6], "w": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]})
print("pandas", df.groupby("k").agg(v=("v", "sum"), w=("w", "mean")).to_dict())
img = (np.arange(48 * 64 * 3) % 251).astype(np.uint8).reshape(48, 64, 3)
p = np.asarray(Image.fromarray(img).resize((32, 24), Image.BILINEAR))
print("pillow", p.shape, hashlib.sha256(p.tobytes()).hexdigest()[:16])
c = cv2.resize(img, (32, 24), interpolation=cv2.INTER_AREA)
print("cv2", c.shape, hashlib.sha256(c.tobytes()).hexdigest()[:16])
`;

/**
 * The CPU build of torch the machine provides as a file (pip's find-links folder): the
 * registry's torch would bring gigabytes of CUDA packages.
 */
export const TORCH_WHEELS = process.env.SLIMENV_E2E_TORCH_WHEELS ?? "/opt/wheels";
export const TORCH_SET: readonly string[] = ["torch==2.13.0"];

/** True when {@link TORCH_WHEELS} holds a torch 2.13.0 CPU wheel. */
export function hasTorchWheel(): boolean {
  return (
    existsSync(TORCH_WHEELS) &&
    readdirSync(TORCH_WHEELS).some((f) => /^torch-2\.13\.0\+cpu-.*\.whl$/.test(f))
  );
}

/** The torch program: tensor maths, a linear layer's forward and backward, a solve. */
export const TORCH_PROGRAM = `import torch

torch.manual_seed(0)
torch.set_num_threads(1)
x = torch.randn(8, 4)
lin = torch.nn.Linear(4, 3)
y = lin(x).relu().sum()
y.backward()
print("torch", torch.__version__, round(float(y), 4), [round(float(v), 4) for v in lin.weight.grad.flatten()[:6]])
a = torch.arange(16.0).reshape(4, 4) + 10 * torch.eye(4)
print("solve", [round(float(v), 6) for v in torch.linalg.solve(a, torch.ones(4))])
print("conv", tuple(torch.nn.functional.conv2d(torch.ones(1, 1, 5, 5), torch.ones(1, 1, 3, 3)).shape))
`;

/** pyenv's newest CPython 3.11 (or SLIMENV_E2E_PYTHON311), undefined when there is none. */
export function python311(): string | undefined {
  if (process.env.SLIMENV_E2E_PYTHON311) return process.env.SLIMENV_E2E_PYTHON311;
  const pyenv = path.join(os.homedir(), ".pyenv", "versions");
  if (!existsSync(pyenv)) return undefined;
  const v = readdirSync(pyenv)
    .filter((x) => /^3\.11\.\d+$/.test(x))
    .sort((a, b) => Number(a.split(".")[2]) - Number(b.split(".")[2]))
    .pop();
  return v === undefined ? undefined : path.join(pyenv, v, "bin", "python3.11");
}

/** Every file under `dir`, `/`-separated and relative to it (symlinks not followed). */
export function walkFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...walkFiles(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}
