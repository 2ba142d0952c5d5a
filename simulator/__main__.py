"""Run the upstream simulator on its own: python -m simulator [--port 8900]."""

import argparse

import uvicorn

from simulator.app import create_simulator

parser = argparse.ArgumentParser(prog="python -m simulator")
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8900)
args = parser.parse_args()
uvicorn.run(create_simulator(), host=args.host, port=args.port, log_level="info")
