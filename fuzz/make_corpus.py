#!/usr/bin/env python3
"""Writes the seed inputs of each fuzz target into fuzz/corpus/TARGET/, made by the real
clients: numpy for .npy/.npz, torch.save for .pt, and gm's model files for the HDF5 schema.

Usage: make_corpus.py OUT_DIR [MODEL.h5 ...]
The model files give the h5_schema target real configs, families and parameter shapes."""
import gzip, io, json, os, struct, sys, zipfile

import numpy as np

out = sys.argv[1]


def put(target, name, data):
    os.makedirs(os.path.join(out, target), exist_ok=True)
    with open(os.path.join(out, target, name), "wb") as f:
        f.write(data)


# safetensors: the header as the format defines it, tensors in order.
def safetensors(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


put("safetensors", "two", safetensors({"a": ("F32", np.arange(6, dtype=np.float32).reshape(2, 3)),
                                       "b": ("I64", np.array([1, 2], dtype=np.int64))}, {"gm_kind": "model"}))
put("safetensors", "types", safetensors({"h": ("F16", np.ones(3, dtype=np.float16)), "u": ("U8", np.arange(4, dtype=np.uint8)),
                                         "z": ("BOOL", np.array([True, False])), "d": ("F64", np.zeros((1, 1)))}))
put("safetensors", "empty", safetensors({}))

# PyTorch: torch.save's own zip files (a state_dict, a nested checkpoint, a shared storage).
try:
    import torch
    from collections import OrderedDict
    for name, obj in {
        "state_dict": OrderedDict(w=torch.randn(3, 2), b=torch.zeros(3, dtype=torch.float64)),
        "nested": {"model": {"w": torch.arange(4, dtype=torch.int64)}, "step": 3},
        "nested_key": {"model": {"w": torch.arange(4, dtype=torch.int64)}},
        "views": {"a": torch.arange(8.0)[2:6], "t": torch.ones(2, 3).t(), "h": torch.ones(2, dtype=torch.float16)},
    }.items():
        buffer = io.BytesIO()
        torch.save(obj, buffer)
        put("torch_pt", name, buffer.getvalue())
        # The bare pickle, which the target wraps in an archive with four storages of its own.
        with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as z:
            pkl = [n for n in z.namelist() if n.endswith("data.pkl")][0]
            sizes = [len(z.read(pkl[:-len("data.pkl")] + f"data/{i}")) if pkl[:-len("data.pkl")] + f"data/{i}" in
                     z.namelist() else 0 for i in range(4)]
            put("torch_pt", name + ".pkl", bytes(sizes) + z.read(pkl))
except ImportError:
    pass

# IDX: an image and a label file, raw and gzipped.
images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
idx_images = b"\0\0\x08\x03" + struct.pack(">III", 2, 3, 4) + images.tobytes()
idx_labels = b"\0\0\x08\x01" + struct.pack(">I", 2) + bytes([1, 7])
put("idx", "images", idx_images)
put("idx", "labels", idx_labels)
put("idx", "images.gz", gzip.compress(idx_images, mtime=0))
put("idx", "floats", b"\0\0\x0d\x02" + struct.pack(">II", 2, 2) + np.arange(4, dtype=">f4").tobytes())

# npy and npz, written by numpy.
for name, array in {"f32": np.arange(6, dtype=np.float32).reshape(2, 3), "u8": np.arange(4, dtype=np.uint8),
                    "be": np.arange(3, dtype=">i4"), "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
                    "bool": np.array([True, False]), "scalar": np.array(3.5)}.items():
    buffer = io.BytesIO()
    np.save(buffer, array)
    put("npy", name, buffer.getvalue())
for name, save in {"npz": np.savez, "npz_deflated": np.savez_compressed}.items():
    buffer = io.BytesIO()
    save(buffer, x=np.arange(6, dtype=np.uint8).reshape(1, 1, 2, 3), y=np.array([4], dtype=np.int64))
    put("npy", name, buffer.getvalue())


# h5_schema: descriptions of files (fuzz/h5_schema.cpp documents the layout).
TYPES = {"uint8": 0, "int8": 1, "int16": 2, "int32": 3, "int64": 4, "float16": 5, "float32": 6, "float64": 7}
GROUPS = {"": 0, "params": 1, "ema": 2, "buffers": 3, "resume": 4, "history": 5}


def h5_object(group, name, dtype, shape, flags=0, extra=b""):
    return (bytes([GROUPS[group]]) + name.encode() + b"\0" + bytes([TYPES[dtype], len(shape)]) +
            b"".join(struct.pack("<H", d) for d in shape) + bytes([flags]) + extra)


def h5_file(kind, config, family, objects, head_bits=0):
    return bytes([kind | head_bits]) + config.encode() + b"\0" + family.encode() + b"\0" + b"".join(objects)


names = b"\0".join(n.encode() for n in ["a", "b", "c"]) + b"\0"
put("h5_schema", "images", h5_file(0, "", "", [
    h5_object("", "x", "uint8", [4, 1, 8, 8], 2, bytes([3]) + names), h5_object("", "y", "int64", [4])]))
put("h5_schema", "images_range", h5_file(1, "", "", [
    h5_object("", "x", "float32", [4, 1, 8, 8], 1 | 32, struct.pack("<dd", -1, 1)), h5_object("", "y", "int64", [4])], 16))
put("h5_schema", "vectors", h5_file(0, "", "", [h5_object("", "x", "float32", [16, 2], 32)]))
for path in sys.argv[2:]:
    import h5py
    with h5py.File(path, "r") as f:
        objects = []
        for group in ("params", "ema", "buffers"):
            if group in f:
                f[group].visititems(lambda name, obj, g=group: objects.append(
                    h5_object(g, name, str(obj.dtype), obj.shape, 32)) if isinstance(obj, h5py.Dataset) else None)
        put("h5_schema", "model_" + os.path.basename(path)[:-3],
            h5_file(2, f.attrs["config"], f.attrs["family"], objects))
