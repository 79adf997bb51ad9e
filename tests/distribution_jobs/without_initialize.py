"""A script that sets the distribution without calling initialize() first still joins the job
the launcher started (rather than every process training alone)."""

import argparse
import os

import numpy as np

import nncore

p = argparse.ArgumentParser()
p.add_argument("--out", required=True)
a = p.parse_args()
nncore.distribution.set_distribution(nncore.distribution.DataParallel())
rank = nncore.distribution.process_index()
np.savez(os.path.join(a.out, f"run.rank{rank}.npz"),
         process_count=np.array(nncore.distribution.process_count()))
