"""Compares two capsim result files number by number: same shape, same text, and every
number within a relative tolerance. Prints the largest relative difference."""
import json, re, sys

a, b, tol = open(sys.argv[1]).read(), open(sys.argv[2]).read(), float(sys.argv[3])
num = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
ta, tb = num.split(a), num.split(b)
na, nb = [float(x) for x in num.findall(a)], [float(x) for x in num.findall(b)]
if ta != tb or len(na) != len(nb):
    print(f"SHAPE DIFFERS: {sys.argv[1]}")
    sys.exit(1)
worst = 0.0
for x, y in zip(na, nb):
    if x != y:
        worst = max(worst, abs(x - y) / max(abs(x), abs(y)))
verdict = "ok" if worst <= tol else "OVER TOLERANCE"
print(f"{verdict}: {sys.argv[1].split('/a/')[-1]} largest relative difference {worst:.3e}")
sys.exit(0 if worst <= tol else 1)
