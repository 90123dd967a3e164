"""Handwritten digits (the tutorial's chapter 11): the 784-128-128-10 multilayer perceptron
trained with cross-entropy and Adam on MNIST, one jitted step per batch.

    python examples/mnist.py --data path/to/mnist --epochs 20 --augment
    python examples/mnist.py --save mnist.safetensors           # a checkpoint after every epoch
    python examples/mnist.py --save mnist.safetensors --resume  # continue an interrupted run

``--data`` names the folder holding the four MNIST files (train-images-idx3-ubyte.gz, ...);
without it, ``$MICROGRAD_DATA/mnist``, else ~/.cache/micrograd/mnist, where missing files are
downloaded. Prints a progress bar per epoch (loss and images per second), the test accuracy
after each epoch, and saves the loss curve to ``--plot`` when matplotlib is installed.

``--save PATH`` writes the model, the optimizer state, the epoch and the losses so far to PATH
(``mg.save``: atomic, so killing the run mid-save keeps the previous epoch's checkpoint) after
every epoch; ``--resume`` loads it and continues with the next epoch, on the same shuffled and
augmented batches the uninterrupted run would have seen. Resuming needs the same ``--epochs``
and ``--batch-size`` (the learning-rate schedule and the loss history depend on them).

Where this differs from the tutorial's code, and why:
- The tutorial ends the model with ``mg.Softmax()`` and then applies ``CrossEntropyLoss``, which
  applies (log-)softmax again: the loss then sees probabilities as logits, its gradients shrink
  and training stalls. The model here returns logits, and the loss applies log-softmax once.
- ``_, predicted = mg.argmax(predictions, dim=1)`` unpacks one array into two names (it mixes
  up PyTorch's ``max``, which returns values and indices); ``argmax`` returns the indices only.
- MNIST has 60,000 training and 10,000 test images, not 70,000 training images.
- The tutorial prints the loss ``if epoch % 100 == 0`` inside a 10-epoch loop (so only in
  epoch 0, once per batch); here a progress bar shows the running loss and an epoch line the
  mean.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

import micrograd as mg
import micrograd.numpy as mnp
from micrograd.data import mnist


def build_model(key) -> mg.Sequential:
    """a 784-128-128-10 multilayer perceptron"""
    k1, k2, k3 = mg.random.split(key, 3)
    return mg.Sequential([
        mg.Linear(in_features=784, out_features=128, key=k1),
        mg.ReLU(),
        mg.Linear(in_features=128, out_features=128, key=k2),
        mg.ReLU(),
        mg.Linear(in_features=128, out_features=10, key=k3),
        # no Softmax here: CrossEntropyLoss takes logits (see the module docstring)
    ])


@mg.jit
def predict(model, images):
    return mnp.argmax(model(images), axis=1)  # one array of class indices (the tutorial unpacks two)


def accuracy(model, loader) -> float:
    correct = total = 0
    for images, labels in loader:
        predicted = predict(model, images)
        total += len(labels)
        correct += int(np.sum(predicted == labels))
    return correct / total


def checkpoint(model, opt_state, epoch: int, losses: list[float], steps: int) -> dict:
    """What --save writes: the loss history is padded with NaN to the run's length so that a
    checkpoint of any epoch has one structure (``mg.load`` checks shapes against ``like``)."""
    history = np.full(steps, np.nan, np.float32)
    history[:len(losses)] = losses
    return {"model": model, "opt_state": opt_state, "epoch": epoch, "losses": history}


def resume(args, model, opt_state, steps: int):
    """(next epoch, model, optimizer state, losses) from the checkpoint at ``args.save``, or the
    fresh ones given when there is no checkpoint yet."""
    if not os.path.exists(args.save):
        print(f"no checkpoint at {args.save} yet: starting at epoch 1")
        return 0, model, opt_state, []
    try:
        saved = mg.load(args.save, like=checkpoint(model, opt_state, 0, [], steps))
    except mg.CheckpointError as e:
        raise SystemExit(f"cannot resume: {e}\n(--resume needs the --epochs and --batch-size of the run that "
                         "saved the checkpoint)") from None
    epoch = saved["epoch"]
    print(f"resuming from {args.save}: {epoch} of {args.epochs} epochs done")
    losses = saved["losses"][:epoch * (steps // args.epochs)].tolist()
    return epoch, saved["model"], saved["opt_state"], losses


def main(argv=None, *, build=build_model, flatten: bool = True, description: str = __doc__, epochs: int = 20,
         lr: float = 2e-3, plot: str = "mnist_loss.png") -> float:
    """Trains the model ``build(key)`` returns on images flat (784 pixels) or, with ``flatten=False``, NCHW
    (1x28x28); the keywords set the description and defaults of the command line."""
    parser = argparse.ArgumentParser(description=description.splitlines()[0])
    parser.add_argument("--data", default=None, help="folder holding the four MNIST .gz files")
    parser.add_argument("--epochs", type=int, default=epochs)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--augment", action=argparse.BooleanOptionalAction, default=True,
                        help="random shifts (2 px), rotations (10 degrees) and scaling (10%%) of training images "
                             "(default: on; --no-augment turns it off)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default=plot, help="loss-curve PNG ('' for none)")
    parser.add_argument("--no-download", action="store_true", help="fail instead of downloading missing files")
    parser.add_argument("--save", default=None, metavar="PATH",
                        help="save a checkpoint (model, optimizer state, epoch) to PATH after every epoch")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the checkpoint at --save PATH (start afresh if there is none)")
    args = parser.parse_args(argv)
    if args.resume and not args.save:
        parser.error("--resume needs --save PATH (the checkpoint to continue from and to keep saving to)")

    start = time.perf_counter()
    # drop_last: every step sees a full batch, so the jitted step compiles for one shape only
    train_loader, test_loader = mnist.load_data(batch_size=args.batch_size, root=args.data,
                                                download=not args.no_download, seed=args.seed,
                                                drop_last=True, augment=args.augment, flatten=flatten)
    n_train, n_test = len(train_loader.inputs), len(test_loader.inputs)
    print(f"MNIST: {n_train} training and {n_test} test images"
          + (" (a subset: the full training set has 60,000)" if n_train < 60000 else ""))

    model = build(mg.random.key(args.seed))
    print(f"model: {build.__doc__.splitlines()[0]}, "
          f"{sum(np.size(p) for p in mg.tree.leaves(model))} parameters")
    loss_function = mg.CrossEntropyLoss()
    # cosine decay to zero over the run: large steps early, fine ones at the end
    optimizer = mg.Adam(learning_rate=mg.optim.schedules.cosine_decay(args.lr, args.epochs * len(train_loader)))
    opt_state = optimizer.init(model)
    # forward, backward and the Adam update compile into one program (mg.jit)
    train_step = mg.optim.make_train_step(lambda m, x, y: loss_function(m(x), y), optimizer)

    steps = args.epochs * len(train_loader)
    losses: list[float] = []
    start_epoch = 0
    if args.resume:
        start_epoch, model, opt_state, losses = resume(args, model, opt_state, steps)
        train_loader.epoch = start_epoch  # the shuffles and augmentations of the epochs still to come
    for epoch in range(start_epoch, args.epochs):
        epoch_losses = []
        with mg.viz.progress(total=len(train_loader) * args.batch_size, desc=f"epoch {epoch + 1}/{args.epochs}",
                             unit="img", leave=False) as bar:
            for images, labels in train_loader:
                model, opt_state, loss = train_step(model, opt_state, images, labels)
                epoch_losses.append(float(loss))
                bar.update(len(labels))
                bar.set_postfix(loss=f"{np.mean(epoch_losses[-20:]):.4f}")
        losses += epoch_losses
        print(f"epoch {epoch + 1}/{args.epochs}  loss {np.mean(epoch_losses):.4f}  "
              f"test accuracy {100 * accuracy(model, test_loader):.2f}%  ({time.perf_counter() - start:.1f} s)")
        if args.save:
            mg.save(args.save, checkpoint(model, opt_state, epoch + 1, losses, steps))

    final = accuracy(model, test_loader)
    print(f"Test Accuracy: {100 * final:.2f}% on {n_test} images, {time.perf_counter() - start:.1f} s in all")
    if args.plot and mg.viz.save_loss_curve(losses, args.plot, title="MNIST training loss"):
        print(f"loss curve saved to {args.plot}")
    return final


if __name__ == "__main__":
    main()
