"""A loopback TCP proxy the test can cut: the database "goes away" for the processes behind it
(every connection closed, new ones refused) while the real server runs on for the others."""

from __future__ import annotations

import asyncio
import contextlib

from memory.embedded import free_port


class CuttableProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = free_port()
        self._target = target_port
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, self.host, self.port)

    async def cut(self) -> None:
        """Stop listening (new connections are refused) and close every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def restore(self) -> None:
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _pipe(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            server_reader, server = await asyncio.open_connection(self.host, self._target)
        except OSError:
            client.transport.abort()
            return
        self._open.update((client, server))
        await asyncio.gather(self._copy(client_reader, server), self._copy(server_reader, client))

    async def _copy(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self._open.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()
