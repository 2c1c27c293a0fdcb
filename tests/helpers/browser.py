"""Debian's headless Chromium, driven over its DevTools protocol with aiohttp (textual-serve's own
dependency): no browser driver to install, nothing downloaded at run time."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

# Headless as root in a closed network: no sandbox, no GPU, nothing that phones home.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)


def chromium_path() -> str | None:
    """The system's Chromium (Debian's package `chromium`), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab: send DevTools commands and wait for their answers."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Run one DevTools command; its result (events arriving meanwhile are dropped)."""
        number = next(self._ids)
        await self._socket.send_json({"id": number, "method": method, "params": params})
        async for message in self._socket:
            answer = json.loads(message.data)
            if answer.get("id") != number:
                continue
            if "error" in answer:
                raise RuntimeError(f"{method}: {answer['error']}")
            result: dict[str, Any] = answer["result"]
            return result
        raise ConnectionError(f"{method}: the browser closed its connection")

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20.0) -> None:
        """Until the expression is true in the page."""
        async with asyncio.timeout(timeout):
            while not await self.evaluate(expression):
                await asyncio.sleep(0.1)

    async def focus_terminal(self) -> None:
        """Give the keyboard to the terminal on textual-serve's page (its xterm.js text field)."""
        await self.wait_for("document.querySelector('textarea.xterm-helper-textarea') !== null")
        await self.evaluate("document.querySelector('textarea.xterm-helper-textarea').focus()")

    async def type_text(self, text: str) -> None:
        """Type text into what has the focus, as the keyboard would."""
        await self.call("Input.insertText", text=text)

    async def press(self, key: str, code: int, *, modifiers: int = 0, text: str = "") -> None:
        """One key down and up: `key` as the DOM names it, `code` its Windows virtual key code,
        `modifiers` 2 for ctrl."""
        for kind in ("keyDown" if text else "rawKeyDown", "keyUp"):
            await self.call(
                "Input.dispatchKeyEvent",
                type=kind,
                key=key,
                code=key if len(key) > 1 else f"Key{key.upper()}",
                windowsVirtualKeyCode=code,
                modifiers=modifiers,
                text=text if kind == "keyDown" else "",
            )

    async def screenshot(self, path: Path) -> None:
        """The page as a PNG."""
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


@contextlib.asynccontextmanager
async def headless_chromium(profile: Path, *, width: int = 1280, height: int = 800) -> AsyncIterator[Page]:
    """A fresh headless Chromium (its profile in `profile`) with one blank tab; quit afterwards."""
    binary = chromium_path()
    assert binary is not None, "no chromium on PATH"
    browser = await asyncio.create_subprocess_exec(
        binary,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port = await _devtools_port(profile / "DevToolsActivePort", browser)
        async with aiohttp.ClientSession() as client:
            async with client.get(f"http://127.0.0.1:{port}/json/list") as answer:
                targets = await answer.json()
            page = next(target for target in targets if target["type"] == "page")
            async with client.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0) as socket:
                tab = Page(socket)
                # The page gets the whole window (headless keeps part of it for the browser's own bars).
                await tab.call(
                    "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False
                )
                yield tab
    finally:
        browser.terminate()
        try:
            await asyncio.wait_for(browser.wait(), 5)
        except TimeoutError:
            browser.kill()
            await browser.wait()


async def _devtools_port(announced: Path, browser: asyncio.subprocess.Process, timeout: float = 20.0) -> int:
    """The port Chromium chose, from the file it writes into its profile once listening."""
    async with asyncio.timeout(timeout):
        while True:
            if browser.returncode is not None:
                raise RuntimeError(f"chromium exited with {browser.returncode} before listening")
            lines = announced.read_text().splitlines() if announced.exists() else []
            if lines and lines[0].isdigit():
                return int(lines[0])
            await asyncio.sleep(0.05)
