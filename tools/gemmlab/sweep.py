#!/usr/bin/env python3
"""Run ./harness -b for several -D configs in interleaved rounds (the machine
is shared, so single runs are noisy); print best and median GFLOP/s per shape.
usage: sweep.py ROUNDS SHAPESET 'cfg1' 'cfg2' ... [-k file.cl]"""
import subprocess, sys, statistics, collections
args = sys.argv[1:]
kfile = []
if '-k' in args:
    i = args.index('-k'); kfile = ['-k', args[i+1]]; del args[i:i+2]
rounds, sset, cfgs = int(args[0]), args[1], args[2:]
res = collections.defaultdict(list)
order = []
for r in range(rounds):
    for c in cfgs:
        out = subprocess.run(['./harness', '-b', '-r', '7', '-s', sset] + kfile + [c],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith('#') or line.startswith('shape'): continue
            name = line[:24].strip(); g = float(line.split()[-1])
            if name not in order: order.append(name)
            res[(c, name)].append(g)
print('%-24s' % 'shape' + ''.join('%28s' % c[:27] for c in cfgs))
for n in order:
    print('%-24s' % n + ''.join('%28s' % ('best %6.1f med %6.1f' % (max(res[(c, n)]), statistics.median(res[(c, n)]))) if res[(c, n)] else '%28s' % '-' for c in cfgs))
