#!/usr/bin/python3
"""Prints chunk N (0-based) of a file split at '// -----' lines, for export
tests that need one module per quench-opt run:  export_chunk.py FILE N"""
import sys

text = open(sys.argv[1]).read()
print(text.split("\n// -----\n")[int(sys.argv[2])])
