#!/usr/bin/python3
"""A Modbus TCP device for edgemes's tests, served by pymodbus (Debian
python3-pymodbus 3.0; run it with /usr/bin/python3).

    pymodbus_server.py --port P --spec FILE [--unit U] [--max-per-read N]

FILE is JSON: {"points": [{"table": "holding", "address": 0, "type": "float32",
"word_order": "little", "byte_order": "big", "value": 1.5}, ...]} ("value": "nan" for a NaN). Each
value is laid out by pymodbus's own BinaryPayloadBuilder (byteorder,
wordorder), never by edgemes's code, so the daemon's decoder is checked
against an implementation nobody in this project wrote. Tables: holding,
input (register types), coil, discrete (type bool). Registers between the
lowest and highest mapped address of a table hold 0; any other address is
unmapped and answers the exception Illegal data address. Only unit U
(default 1) exists: another unit answers Gateway target failed to respond.

--max-per-read N: reads of more than N registers (or bits) answer Illegal data
address, like a device that reads one register at a time.

Prints "pymodbus serving on 127.0.0.1:P" once listening, and one line
"read TABLE START COUNT" per read request it answered with data.
"""
import argparse
import asyncio
import json
import sys

import types

# pymodbus.server imports pyserial and pyserial-asyncio for its serial server,
# which Debian only recommends (python3-serial-asyncio). This device is TCP
# only: stand-ins let the import succeed when they are not installed.
for missing, attrs in (("serial", {}), ("serial_asyncio", {"create_serial_connection": None})):
    try:
        __import__(missing)
    except ImportError:
        sys.modules[missing] = types.ModuleType(missing)
        sys.modules[missing].__dict__.update(attrs)

from pymodbus.constants import Endian  # noqa: E402  (after the stand-ins)
from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.server import StartAsyncTcpServer

ORDER = {"big": Endian.Big, "little": Endian.Little}
ADD = {
    "int16": "add_16bit_int",
    "uint16": "add_16bit_uint",
    "int32": "add_32bit_int",
    "uint32": "add_32bit_uint",
    "int64": "add_64bit_int",
    "float32": "add_32bit_float",
    "float64": "add_64bit_float",
}
INTEGER = {"int16", "uint16", "int32", "uint32", "int64"}


class Block(ModbusSparseDataBlock):
    """A sparse block that logs reads and refuses those over a size."""

    def __init__(self, name, values, max_count):
        super().__init__(values)
        self.name = name
        self.max_count = max_count

    def validate(self, address, count=1):
        if count > self.max_count:
            return False
        return super().validate(address, count)

    def getValues(self, address, count=1):  # pylint: disable=invalid-name
        print(f"read {self.name} {address} {count}", flush=True)
        return super().getValues(address, count)


def registers(point):
    kind = point["type"]
    builder = BinaryPayloadBuilder(
        byteorder=ORDER[point.get("byte_order", "big")],
        wordorder=ORDER[point.get("word_order", "big")],
    )
    value = point["value"]
    getattr(builder, ADD[kind])(int(value) if kind in INTEGER else float(value))
    return builder.to_registers()


def blocks(spec, max_count):
    tables = {"holding": {}, "input": {}, "coil": {}, "discrete": {}}
    for point in spec["points"]:
        table = tables[point["table"]]
        if point["type"] == "bool":
            table[point["address"]] = bool(point["value"])
        else:
            for i, word in enumerate(registers(point)):
                table[point["address"] + i] = word
    out = {}
    for name, values in tables.items():
        if values:
            filler = False if name in ("coil", "discrete") else 0
            for address in range(min(values), max(values) + 1):
                values.setdefault(address, filler)
        out[name] = Block(name, values, max_count)
    return out


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--unit", type=int, default=1)
    parser.add_argument("--max-per-read", type=int, default=2000)
    args = parser.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    b = blocks(spec, args.max_per_read)
    device = ModbusSlaveContext(
        hr=b["holding"], ir=b["input"], co=b["coil"], di=b["discrete"], zero_mode=True
    )
    context = ModbusServerContext(slaves={args.unit: device}, single=False)
    server = await StartAsyncTcpServer(
        context, address=("127.0.0.1", args.port), defer_start=True, allow_reuse_address=True
    )
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    print(f"pymodbus serving on 127.0.0.1:{args.port}", flush=True)
    await task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
