"""Several files in one browser upload: Reflex's one chunk stream, split back into files."""

from __future__ import annotations

import asyncio

import reflex as rx

from product_importer.ui.upload_parts import UploadParts


def chunks_of(name: str, data: bytes, size: int) -> list[rx.UploadChunk]:
    """The chunks Reflex hands a handler for one file: offsets count from the file's start,
    and an empty file still comes as one empty chunk."""
    pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
    offsets = [0]
    for piece in pieces[:-1]:
        offsets.append(offsets[-1] + len(piece))
    return [
        rx.UploadChunk(filename=name, offset=offset, content_type="text/csv", data=piece)
        for offset, piece in zip(offsets, pieces, strict=True)
    ]


async def split(chunks: list[rx.UploadChunk], *, read_first_chunk_only: set[str]) -> dict:
    """Feed the chunks through Reflex's own iterator (bounded, like an upload) and read each
    file as the upload handler does; a file named in `read_first_chunk_only` is dropped after
    its first chunk, like a file whose header is refused."""
    source = rx.UploadChunkIterator(maxsize=2)
    read: dict[str, bytes] = {}

    async def consume() -> None:
        async for name, data in UploadParts(source, read_timeout_s=5).files():
            got = b""
            async for piece in data:
                got += piece
                if name in read_first_chunk_only:
                    break
            read[name] = got

    consumer = asyncio.ensure_future(consume())
    source.set_consumer_task(consumer)
    for chunk in chunks:
        await source.push(chunk)
    await source.finish()
    await consumer
    return read


def test_each_file_of_one_upload_is_read_on_its_own() -> None:
    a = b"sku,name,description\n" + b"A-1,a,aa\n" * 50
    b = b"sku,name\n" + b"B-1,b\n" * 50
    c = b"sku,name,description\nC-1,c,cc\n"
    chunks = [*chunks_of("a.csv", a, 64), *chunks_of("b.csv", b, 64), *chunks_of("c.csv", c, 7)]
    read = asyncio.run(split(chunks, read_first_chunk_only={"b.csv"}))
    # b.csv was left after its first chunk: the rest of it is skipped, not given to c.csv.
    assert read == {"a.csv": a, "b.csv": b[:64], "c.csv": c}


def test_empty_files_and_repeated_names_stay_apart() -> None:
    one = b"sku,name,description\nX-1,x,xx\n"
    two = b"sku,name,description\nY-1,y,yy\n"
    chunks = [
        *chunks_of("empty.csv", b"", 10),
        *chunks_of("same.csv", one, 10),
        *chunks_of("same.csv", two, 10),
    ]

    async def files() -> list[tuple[str, bytes]]:
        source = rx.UploadChunkIterator(maxsize=4)
        out: list[tuple[str, bytes]] = []

        async def consume() -> None:
            async for name, data in UploadParts(source, read_timeout_s=5).files():
                out.append((name, b"".join([piece async for piece in data])))

        consumer = asyncio.ensure_future(consume())
        source.set_consumer_task(consumer)
        for chunk in chunks:
            await source.push(chunk)
        await source.finish()
        await consumer
        return out

    assert asyncio.run(files()) == [("empty.csv", b""), ("same.csv", one), ("same.csv", two)]
