#!/usr/bin/env python3
"""Seconds per epoch of the DCASE 2020 Task 2 baseline autoencoder in Keras (TensorFlow CPU),
the yardstick for aad-models' training speed.

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu numpy
    /tmp/tfvenv/bin/python scripts/bench/keras_dcase_ae.py [--vectors 300000] [--threads 1] [--epochs 2] [--no-bn]

The network is the baseline's keras_model.py: 640 -> [Dense 128, BatchNorm, ReLU] x 4 ->
Dense 8, BatchNorm, ReLU -> [Dense 128, BatchNorm, ReLU] x 4 -> Dense 640; Adam, MSE,
batch 512, shuffle, validation_split 0.1. --no-bn drops the BatchNorm layers (the MIMII
baseline style). Data: seeded Gaussian vectors (speed does not depend on the values).
Prints one line per epoch and the median seconds per epoch.
"""
import argparse
import os
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vectors", type=int, default=300_000)
    ap.add_argument("--dims", type=int, default=640)
    ap.add_argument("--threads", type=int, default=1, help="intra- and inter-op threads (0 = TF default)")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--no-bn", action="store_true")
    a = ap.parse_args()
    if a.threads:
        os.environ["TF_NUM_INTRAOP_THREADS"] = str(a.threads)
        os.environ["TF_NUM_INTEROP_THREADS"] = str(a.threads)
        os.environ["OMP_NUM_THREADS"] = str(a.threads)
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras
    if a.threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((a.vectors, a.dims), dtype=np.float32)

    inp = keras.Input(shape=(a.dims,))
    h = inp
    for width in [128, 128, 128, 128, 8, 128, 128, 128, 128]:
        h = keras.layers.Dense(width)(h)
        if not a.no_bn:
            h = keras.layers.BatchNormalization()(h)
        h = keras.layers.Activation("relu")(h)
    out = keras.layers.Dense(a.dims)(h)
    model = keras.Model(inp, out)
    model.compile(optimizer="adam", loss="mean_squared_error")
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t)
            print(f"epoch {epoch + 1}: {times[-1]:.2f} s, loss {logs['loss']:.4f}", flush=True)

    model.fit(x, x, epochs=a.epochs, batch_size=512, shuffle=True, validation_split=0.1,
              verbose=0, callbacks=[Timer()])
    print(f"keras {tf.__version__} threads {a.threads or 'default'} bn {not a.no_bn}: "
          f"median {sorted(times)[len(times) // 2]:.2f} s/epoch over {a.vectors} vectors")


if __name__ == "__main__":
    main()
