"""``python -m node_agent``: the same command line as the ``node-agent`` console script."""

from node_agent.cli import main

main(prog_name="node-agent")
