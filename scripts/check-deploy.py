#!/usr/bin/env python3
"""Offline check of the cluster files in deploy/ (issue 16): they parse, and the fields
that must agree do agree.

    python3 scripts/check-deploy.py        (needs PyYAML: apt-get install python3-yaml)

Kubernetes (deploy/k8s/): `kubectl apply --dry-run=client` still needs an API server, so
this parses the manifests and checks what a cluster would only reveal at run time:
- sweep-job.yaml is an Indexed Job whose completions and parallelism equal the N of its
  `capsim sweep … --shard auto/N`, restartPolicy Never, per-index retries, exit code 2
  not retried, CAPSIM_SHARD_LIST present and empty, --threads = the CPU request;
- the scenario it sweeps lies in a mounted ConfigMap and is a file of scenarios/;
- its --out lies on a mounted PersistentVolumeClaim that out-pvc.yaml declares
  ReadWriteMany (all pods write into it at once);
- merge-job.yaml runs `capsim merge` on exactly that directory, on the same claim and
  image, into a different directory.
Slurm (deploy/slurm/): the #SBATCH --array of sweep-array.sbatch is 0-(N-1) for its
default N, and merge.sbatch merges the directory the array writes.

With the PyPI package kubernetes-validate installed (it ships the API schemas, so it works
offline), the manifests are also validated strictly (unknown fields rejected) against
Kubernetes 1.29, the oldest release with backoffLimitPerIndex and FailIndex on by default,
and the newest the package knows.
"""
import pathlib
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("check-deploy: needs PyYAML (apt-get install python3-yaml, or pip install pyyaml)")

top = pathlib.Path(__file__).resolve().parent.parent
problems = []


def check(cond, what):
    if cond:
        print(f"ok: {what}")
    else:
        problems.append(what)
        print(f"FAIL: {what}")


def load(rel):
    docs = [d for d in yaml.safe_load_all((top / rel).read_text()) if d is not None]
    if len(docs) != 1:
        sys.exit(f"{rel}: expected one YAML document, found {len(docs)}")
    return docs[0]


def flag(cmd, name):
    """The value after `name` in an argv list."""
    if name not in cmd:
        return None
    i = cmd.index(name)
    return cmd[i + 1] if i + 1 < len(cmd) else None


def mount_of(pod, container, path):
    """(volumeMount, volume) whose mountPath contains `path`."""
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/") + "/"
        if path.startswith(mp):
            vol = next(v for v in pod["volumes"] if v["name"] == m["name"])
            return m, vol
    return None, None


def cpu(q):
    q = str(q)
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


# --- Kubernetes -------------------------------------------------------------------------
sweep = load("deploy/k8s/sweep-job.yaml")
merge = load("deploy/k8s/merge-job.yaml")
pvc = load("deploy/k8s/out-pvc.yaml")

check(sweep["apiVersion"] == "batch/v1" and sweep["kind"] == "Job", "sweep-job.yaml is a batch/v1 Job")
spec = sweep["spec"]
pod = spec["template"]["spec"]
(c,) = [c for c in pod["containers"] if c["name"] == "capsim"]
cmd = [str(a) for a in c["command"]]
check(cmd[:2] == ["capsim", "sweep"], f"sweep command is `capsim sweep …`: {' '.join(cmd)}")
shard = flag(cmd, "--shard") or ""
m = re.fullmatch(r"auto/(\d+)", shard)
check(m is not None, f"--shard is auto/N: {shard}")
n = int(m.group(1)) if m else -1
check(spec.get("completionMode") == "Indexed", "completionMode: Indexed")
check(spec.get("completions") == n, f"completions {spec.get('completions')} = N {n}")
check(spec.get("parallelism") == n, f"parallelism {spec.get('parallelism')} = N {n}")
check(pod.get("restartPolicy") == "Never", "restartPolicy: Never")
check(isinstance(spec.get("backoffLimitPerIndex"), int), "backoffLimitPerIndex set: a failed shard retries alone")
rules = spec.get("podFailurePolicy", {}).get("rules", [])
check(
    any(r["action"] == "FailIndex" and 2 in r["onExitCodes"]["values"] and r["onExitCodes"]["operator"] == "In" for r in rules),
    "exit code 2 (usage/input error) fails its index without retries",
)
env = {e["name"]: e.get("value") for e in c.get("env", [])}
check(env.get("CAPSIM_SHARD_LIST") == "", "CAPSIM_SHARD_LIST present and empty (set it for a rerun)")
check(env.get("CAPSIM_SHARDS") in (None, str(n)), "no CAPSIM_SHARDS contradicting --shard auto/N")
check("SLURM_ARRAY_TASK_ID" not in env and "JOB_COMPLETION_INDEX" not in env, "the index is left to Kubernetes")
threads = flag(cmd, "--threads")
req = c.get("resources", {}).get("requests", {})
check(threads is not None and "cpu" in req and float(threads) == cpu(req["cpu"]), f"--threads {threads} = CPU request {req.get('cpu')}")

scenario = cmd[2]
sm, sv = mount_of(pod, c, scenario)
check(sv is not None and "configMap" in sv and sm.get("readOnly") is True, f"scenario {scenario} is on a read-only ConfigMap mount")
check((top / "scenarios" / pathlib.PurePosixPath(scenario).name).is_file(), f"{pathlib.PurePosixPath(scenario).name} is a file of scenarios/")
out = flag(cmd, "--out") or ""
om, ov = mount_of(pod, c, out)
claim = (ov or {}).get("persistentVolumeClaim", {}).get("claimName")
check(claim is not None, f"--out {out} is on a PersistentVolumeClaim ({claim})")
check(pvc["kind"] == "PersistentVolumeClaim" and pvc["metadata"]["name"] == claim, f"out-pvc.yaml declares claim {claim}")
check("ReadWriteMany" in pvc["spec"]["accessModes"], "the claim is ReadWriteMany (every shard writes at once)")

check(merge["apiVersion"] == "batch/v1" and merge["kind"] == "Job", "merge-job.yaml is a batch/v1 Job")
mpod = merge["spec"]["template"]["spec"]
(mc,) = [x for x in mpod["containers"] if x["name"] == "capsim"]
mcmd = [str(a) for a in mc["command"]]
check(mcmd[:3] == ["capsim", "merge", out], f"merge reads the sweep's --out: {' '.join(mcmd)}")
mout = flag(mcmd, "--out")
check(mout is not None and mout != out, f"merge writes elsewhere: {mout}")
_, mv = mount_of(mpod, mc, out)
check((mv or {}).get("persistentVolumeClaim", {}).get("claimName") == claim, "merge mounts the same claim at the same path")
check(mc["image"] == c["image"], f"same image in both Jobs: {c['image']}")
check(mpod.get("restartPolicy") == "Never", "merge restartPolicy: Never")

try:
    import kubernetes_validate
except ImportError:
    kubernetes_validate = None
    print("skip: schema validation (pip install kubernetes-validate to run it)")
if kubernetes_validate:
    for version in ("1.29.0", kubernetes_validate.latest_version()):
        for rel, doc in (("sweep-job.yaml", sweep), ("merge-job.yaml", merge), ("out-pvc.yaml", pvc)):
            try:
                kubernetes_validate.validate(doc, version, strict=True)
                check(True, f"{rel} valid for Kubernetes {version} (strict schema)")
            except kubernetes_validate.ValidationError as e:
                check(False, f"{rel} valid for Kubernetes {version}: {e.message}")

# --- Slurm --------------------------------------------------------------------------------
sb = (top / "deploy/slurm/sweep-array.sbatch").read_text()
arr = re.search(r"^#SBATCH --array=0-(\d+)\b", sb, re.M)
default_n = re.search(r"^N=\$\{CAPSIM_SHARDS:-(\d+)\}", sb, re.M)
check(arr is not None and default_n is not None and int(arr.group(1)) == int(default_n.group(1)) - 1,
      "sweep-array.sbatch: --array=0-(N-1) for its default N")
check('--shard "auto/$N"' in sb, "sweep-array.sbatch runs --shard auto/N")
sweep_out = re.search(r"^OUT=\$\{CAPSIM_OUT:-([^}]+)\}", sb, re.M)
mb = (top / "deploy/slurm/merge.sbatch").read_text()
merge_in = re.search(r"^SWEEP=\$\{CAPSIM_OUT:-([^}]+)\}", mb, re.M)
check(sweep_out and merge_in and sweep_out.group(1) == merge_in.group(1), "merge.sbatch merges the directory the array writes")

if problems:
    sys.exit(f"check-deploy: {len(problems)} problem(s)")
print("check-deploy: all deploy/ files consistent")
