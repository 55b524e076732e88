"""The whole LAPOR! Pontianak system on this machine in one command, `python -m stack run` (what `make run` does):
the engine (engine/), bpmn/ deployed with the roles provisioned, the workers and the API with its mail catcher."""
