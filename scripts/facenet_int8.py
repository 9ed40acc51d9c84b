#!/usr/bin/env python3
"""FaceNet in 8 bits for OpenVINO, built from committed statistics, without any face.

    facenet_int8.py statistics CHIPS_DIR GRAPH_PB OUT_NPZ
        Collects the statistics post-training quantisation needs (per-tensor ranges and
        per-channel means of FaceNet's activations) on 300 aligned chips written by
        `rollcall-tools facenet-chips` (chosen with a fixed seed), into one .npz file.
        Run once by a developer; the result is committed as assets/facenet-int8/.
    facenet_int8.py build GRAPH_PB STATISTICS_NPZ OUT_XML
        Quantises FaceNet with NNCF from those statistics alone (no calibration data)
        and writes OpenVINO's model files (OUT_XML and its .bin). Run by scripts/setup
        (which writes their checksums beside them); the same inputs give the same bytes.

Both need the packages pinned in assets/facenet-int8/requirements.txt.
"""
import pathlib
import sys

import numpy as np
import nncf
import openvino as ov
from nncf.common.factory import StatisticsAggregatorFactory
from nncf.openvino.graph.nncf_graph_builder import GraphConverter
from nncf.quantization.algorithms.post_training.algorithm import PostTrainingQuantization
from nncf.tensor import Tensor

CHIP = 160
SUBSET = 300
SEED = 0


def pipeline(graph_pb, chips):
    """FaceNet, NNCF's default post-training pipeline for it (min/max ranges, fast bias
    correction) as one step, its graph, and an aggregator of the statistics that step
    needs over `chips` (none when they are loaded rather than collected)."""
    model = ov.Core().read_model(graph_pb)
    algorithm = PostTrainingQuantization(subset_size=SUBSET)
    graph = GraphConverter.create_nncf_graph(model)
    steps = algorithm._pipeline
    if len(steps.pipeline_steps) != 1:
        sys.exit("unexpected NNCF pipeline: pin the version in the requirements file")
    aggregator = StatisticsAggregatorFactory.create(model, nncf.Dataset(chips))
    aggregator.register_statistic_points(steps.get_statistic_points_for_step(0, model, graph))
    return model, steps, graph, aggregator


def statistics(chips_dir, graph_pb, out):
    files = sorted(pathlib.Path(chips_dir).glob("*.rgb"))
    chosen = np.random.default_rng(SEED).choice(len(files), SUBSET, replace=False)
    chips = [
        ((np.fromfile(files[i], dtype=np.uint8).reshape(1, CHIP, CHIP, 3).astype(np.float32) - 127.5) / 128.0)
        for i in sorted(chosen)
    ]
    model, _, graph, aggregator = pipeline(graph_pb, chips)
    aggregator.collect_statistics(model, graph)
    arrays = {}
    for _, point, collector in aggregator.statistic_points.get_tensor_collectors():
        stat = collector.get_statistics()
        key = aggregator._get_statistics_key(stat, point.target_point)
        for field, value in stat._get_serialized_data().items():
            arrays[f"{key}/{field}"] = np.asarray(value.data)
    np.savez_compressed(out, **arrays)
    print(f"{len(arrays)} arrays from {SUBSET} of {len(files)} chips written to {out}")


def build(graph_pb, stats_npz, out_xml):
    model, steps, graph, aggregator = pipeline(graph_pb, [])
    stored = {}
    with np.load(stats_npz) as npz:
        for name in npz.files:
            key, field = name.rsplit("/", 1)
            stored.setdefault(key, {})[field] = Tensor(npz[name])
    for _, point, collector in aggregator.statistic_points.get_tensor_collectors():
        kind = collector._stat_container
        stat = kind.__new__(kind)
        key = aggregator._get_statistics_key(stat, point.target_point)
        fields = stored.get(key)
        if not fields:
            sys.exit(f"the statistics file has nothing for {key}")
        stat.load_data(fields)
        collector.set_cache(stat)
    quantised = steps.run_step(0, aggregator.statistic_points, model, graph)
    ov.save_model(quantised, out_xml)


if __name__ == "__main__":
    commands = {"statistics": (statistics, 3), "build": (build, 3)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) != 2 + commands[sys.argv[1]][1]:
        sys.exit(__doc__)
    function, _ = commands[sys.argv[1]]
    function(*sys.argv[2:])
