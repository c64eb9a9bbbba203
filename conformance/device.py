"""Which device torch runs on (``--device``); the oracles always stay on the CPU in float64."""

from __future__ import annotations


def device_name(config) -> str:
    try:
        return config.getoption("--device")
    except ValueError:  # the option is registered by the results plugin
        return "cpu"
