"""The tail of `heaplens investigate`: the analysis of a worker's last snapshot once the earlier ones were read
ahead (diagnose/run.py `Ahead`), as `analyse_pair` runs it after the suite's last file.

    .venv/bin/python bench/tail_bench.py DIR [prof] [cold]

DIR holds one worker's snapshots (first, middle, last); the reads of the first and the middle are started and
waited for, then `analyse_pair` is timed 4 times (wall, and the CPU time of the thread that runs it: on a busy
machine the steadier figure) (`prof`: a cProfile of the 4th, SORT/TOP in the environment).
`cold`: re's pattern cache is emptied before each run, as in a fresh heaplens process (else the runs after the
first find the patterns compiled by the first). ROOT in the environment: the suite's checkout for source lookups
(/work/cache/suites/date-fns by default).
"""
import cProfile
import glob
import os
import pstats
import re
import sys
import time

from heaplens.diagnose import engine, load_rules
from heaplens.diagnose.run import Ahead

d = sys.argv[1]
prof = "prof" in sys.argv[2:]
cold = "cold" in sys.argv[2:]
snaps = sorted(glob.glob(d + '/*.heapsnapshot'))
rules = load_rules()
res = []
for rep in range(4):
    a = Ahead()
    a.written(snaps[:1], rules)
    a.written(snaps[:2], rules)
    for t in list(a.reads._tasks.values()):
        t._thread.join()
    if cold:
        re.purge()
    t0, c0 = time.perf_counter(), time.thread_time()
    if prof and rep == 3:
        pr = cProfile.Profile()
        pr.enable()
    r = engine.analyse_pair(before=snaps[0], after=snaps[-1], previous=snaps[1], middles=[snaps[1]], rules=rules,
                            root=os.environ.get("ROOT", "/work/cache/suites/date-fns"), reads=a.reads, pid=0)
    dt, cpu = time.perf_counter() - t0, time.thread_time() - c0
    if prof and rep == 3:
        pr.disable()
        pstats.Stats(pr).sort_stats(os.environ.get('SORT', 'cumulative')).print_stats(int(os.environ.get('TOP', '45')))
    res.append((dt, cpu))
print('tail', [round(x, 3) for x, _ in res], 'main thread cpu', [round(c, 3) for _, c in res])
