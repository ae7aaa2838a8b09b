"""Contracts shared by the controller and the agent: the agent's REST API and the heartbeat.

Both sides import from here and nothing else of each other, so an amphora image needs only
`pier.domain` and `pier.wire` besides the agent itself.
"""
