"""LangChain standard tool tests for the calculator tools (langchain-tests).

The tools are pure functions, so the "integration" suite needs no external service; both suites
run as unit tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from rag.calculator import make_calculator_tool

pytestmark = pytest.mark.unit


def async_suite(cls: type) -> type:
    """pyproject leaves pytest-asyncio in strict mode, so the suite's async tests need the mark.

    A class-level mark also lands on the sync tests, which pytest-asyncio warns about harmlessly.
    """
    cls = pytest.mark.filterwarnings("ignore:.*marked with '@pytest.mark.asyncio' but it is not")(
        cls
    )
    return pytest.mark.asyncio(cls)


GROWTH_ARGS = {"start": "约为70万根", "end": "170万根左右"}
APPLY_RATIO_ARGS = {
    "known": "两百多万根",
    "ratio": "1:1.25",
    "known_side": "right",
    "left_name": "TPU",
    "right_name": "AEC",
}


class TestGrowthRateToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> BaseTool:
        return make_calculator_tool("growth_rate")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return GROWTH_ARGS


@async_suite
class TestGrowthRateToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> BaseTool:
        return make_calculator_tool("growth_rate", language="en")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return GROWTH_ARGS


class TestApplyRatioToolUnit(ToolsUnitTests):
    @property
    def tool_constructor(self) -> BaseTool:
        return make_calculator_tool("apply_ratio")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return APPLY_RATIO_ARGS


@async_suite
class TestApplyRatioToolIntegration(ToolsIntegrationTests):
    @property
    def tool_constructor(self) -> BaseTool:
        return make_calculator_tool("apply_ratio", language="zh")

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return APPLY_RATIO_ARGS
