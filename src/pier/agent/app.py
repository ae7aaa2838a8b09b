"""The agent's HTTP API (`pier.wire.agent_api`) over an `AmphoraManager`.

Handlers are plain functions: Starlette runs them in its thread pool, where a push may block
on `haproxy -c` or a reload while other amphorae's requests go on. Every error leaves through
one handler, in Octavia's agent shape `{"message": ..., "details": ...}`.
"""

import json
import logging
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pier.agent.errors import AgentError, InvalidRequest
from pier.agent.manager import AmphoraManager
from pier.wire.agent_api import API_VERSION, PREFIX

log = logging.getLogger(__name__)
# A configuration bundle is a few hundred kilobytes at most; refuse anything far larger.
MAX_BODY = 16 * 1024 * 1024


def build_app(manager: AmphoraManager) -> Starlette:
    async def versions(_: Request) -> Response:
        return JSONResponse({"api_version": API_VERSION})

    def info(_: Request) -> Response:
        return JSONResponse(manager.info())

    def list_amphorae(_: Request) -> Response:
        return JSONResponse({"amphorae": manager.list_states()})

    async def create_amphora(request: Request) -> Response:
        body = _json_object(await _body(request))
        amphora_id, loadbalancer_id = body.get("amphora_id"), body.get("loadbalancer_id")
        if not isinstance(amphora_id, str) or not isinstance(loadbalancer_id, str):
            raise InvalidRequest("Invalid request", "amphora_id and loadbalancer_id are strings")
        state, created = await run_in_threadpool(manager.create, amphora_id, loadbalancer_id)
        return JSONResponse(state, status_code=201 if created else 200)

    def show_amphora(request: Request) -> Response:
        return JSONResponse(manager.get_amphora(request.path_params["amphora_id"]).state())

    async def put_config(request: Request) -> Response:
        amphora_id = request.path_params["amphora_id"]
        manager.get_amphora(amphora_id)  # 404 before reading a body for nothing
        try:
            text = (await _body(request)).decode()
        except UnicodeDecodeError:
            raise InvalidRequest("Invalid configuration document", "not UTF-8") from None
        return JSONResponse(await run_in_threadpool(manager.apply, amphora_id, text))

    def delete_amphora(request: Request) -> Response:
        manager.delete(request.path_params["amphora_id"])
        return JSONResponse({"message": "OK"})

    routes = [
        Route("/", versions, methods=["GET"]),
        Route(f"{PREFIX}/info", info, methods=["GET"]),
        Route(f"{PREFIX}/amphorae", list_amphorae, methods=["GET"]),
        Route(f"{PREFIX}/amphorae", create_amphora, methods=["POST"]),
        Route(f"{PREFIX}/amphorae/{{amphora_id}}", show_amphora, methods=["GET"]),
        Route(f"{PREFIX}/amphorae/{{amphora_id}}", delete_amphora, methods=["DELETE"]),
        Route(f"{PREFIX}/amphorae/{{amphora_id}}/config", put_config, methods=["PUT"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            AgentError: _agent_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )


async def _body(request: Request) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        raise InvalidRequest("Request too large", f"at most {MAX_BODY} bytes")
    return await request.body()


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError as error:
        raise InvalidRequest("Invalid request", f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise InvalidRequest("Invalid request", "a JSON object is expected")
    return document


async def _agent_error(_: Request, error: Exception) -> Response:
    if not isinstance(error, AgentError):
        raise error
    return JSONResponse(
        {"message": error.message, "details": error.details}, status_code=error.status
    )


async def _http_error(_: Request, error: Exception) -> Response:
    if not isinstance(error, HTTPException):
        raise error
    return JSONResponse(
        {"message": error.detail, "details": ""},
        status_code=error.status_code,
        headers=error.headers,
    )


async def _unexpected(request: Request, error: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    return JSONResponse({"message": "Internal error", "details": str(error)}, status_code=500)
