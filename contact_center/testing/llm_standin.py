"""An OpenAI-compatible LLM server in its own process, that stops in the middle of an answer.

:class:`LLMStandIn` starts ``python -m contact_center.testing.llm_standin``: it answers
``POST /v1/chat/completions`` with a streamed completion (Server-Sent Events over chunked
HTTP, as llama.cpp's server and vLLM send it), sends its first words, says so on its standard
output, and waits. The test then chooses what happens mid-answer: :meth:`LLMStandIn.finish`
sends the rest, :meth:`LLMStandIn.kill` kills the process (an out-of-memory kill, a crash of
the model server). Point the application at it with ``CC_LLM__BACKEND=openai`` and
``CC_LLM__BASE_URL`` = :attr:`LLMStandIn.base_url`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from types import TracebackType

#: The answer it streams: the first delta, then the rest once told to finish.
FIRST_WORDS = "D'après la fiche"
REST = " de la commune, la démarche se fait en mairie [1]."
#: What the process prints once the first words are sent.
MID_ANSWER = "mid-answer"


class LLMStandIn:
    """The stand-in server process (a context manager that always stops it)."""

    def __init__(self) -> None:
        listening = socket.create_server(("127.0.0.1", 0))
        self.port = int(listening.getsockname()[1])
        fd = listening.fileno()
        with listening:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "contact_center.testing.llm_standin", str(fd)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(fd,),
            )  # fmt: skip

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL."""
        return f"http://127.0.0.1:{self.port}/v1"

    def wait_mid_answer(self) -> None:
        """Block until the server has sent the first words of an answer."""
        assert self._process.stdout is not None
        line = self._process.stdout.readline().decode().strip()
        if line != MID_ANSWER:
            raise RuntimeError(f"the LLM stand-in stopped before answering ({line!r})")

    def finish(self) -> None:
        """Let the answer in progress end normally."""
        assert self._process.stdin is not None
        self._process.stdin.write(b"finish\n")
        self._process.stdin.flush()

    def kill(self) -> None:
        """Kill the server process (SIGKILL): its connections drop mid-stream."""
        self._process.kill()
        self._process.wait(timeout=10)

    def __enter__(self) -> LLMStandIn:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process.poll() is None:
            self.kill()


def _chunk(content: str | None) -> bytes:
    delta = {} if content is None else {"content": content}
    body = {
        "id": "standin",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "standin",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None if content else "stop"}],
    }
    event = f"data: {json.dumps(body)}\n\n".encode()
    return f"{len(event):x}\r\n".encode() + event + b"\r\n"


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    writer.write(_chunk(FIRST_WORDS))
    await writer.drain()
    print(MID_ANSWER, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # the test decides
    done = b"data: [DONE]\n\n"
    writer.write(_chunk(REST) + _chunk(None))
    writer.write(f"{len(done):x}\r\n".encode() + done + b"\r\n0\r\n\r\n")
    await writer.drain()
    writer.close()


async def _main(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    server = await asyncio.start_server(_serve, sock=sock)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_main(int(sys.argv[1])))
