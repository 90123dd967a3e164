"""Handwritten digits (the tutorial's chapter 11): the 784-128-128-10 multilayer perceptron
trained with cross-entropy and Adam on MNIST, one jitted step per batch.

    python examples/mnist.py --data path/to/mnist --epochs 20 --augment
    python examples/mnist.py --save mnist.safetensors           # a checkpoint after every epoch
    python examples/mnist.py --save mnist.safetensors --resume  # continue an interrupted run
    mpiexec -n 2 python examples/mnist.py --distributed         # data-parallel on 2 processes (MPI)

``--data`` names the folder holding the four MNIST files (train-images-idx3-ubyte.gz, ...);
without it, ``$MICROGRAD_DATA/mnist``, else ~/.cache/micrograd/mnist, where missing files are
downloaded. Prints a progress bar per epoch (loss and images per second), the test accuracy
after each epoch, and saves the loss curve to ``--plot`` when matplotlib is installed.

``--save PATH`` writes the model, the optimizer state, the epoch and the losses so far to PATH
(``mg.save``: atomic, so killing the run mid-save keeps the previous epoch's checkpoint) after
every epoch; ``--resume`` loads it and continues with the next epoch, on the same shuffled and
augmented batches the uninterrupted run would have seen. Resuming needs the same ``--epochs``
and ``--batch-size`` (the learning-rate schedule and the loss history depend on them).

``--distributed`` trains data-parallel over MPI (``pip install -e ".[distributed]"``): each process
``mpiexec`` starts takes its share of every batch of ``--batch-size`` images (the global batch), the
gradients are averaged over the processes before each update, and rank 0 prints, shows the
progress bar and writes the checkpoint. It trains the model one process trains, to rounding.

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
import copy
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


def accuracy(model, loader, dist=None) -> float:
    correct = total = 0
    for images, labels in loader:
        predicted = predict(model, images)
        total += len(labels)
        correct += int(np.sum(predicted == labels))
    if dist is not None:  # each rank scored its share of the test images
        correct, total = dist.allreduce(np.array([correct, total]))
    return float(correct / total)


def compile_first(train_step, model, opt_state, train_loader, test_loader) -> None:
    """Runs the step and the prediction once on batches of every shape they will see (the
    results are thrown away) and waits until their kernels are compiled, so that every step of
    the run executes the same compiled code. Without it the first steps run with NumPy while the
    kernels compile, and NumPy rounds differently from the compiled loops (it sums in another
    order; its exp and tanh differ in the last bit): a run with an empty compile cache and one
    with a warm cache would then part in the last digits."""
    images, labels = next(iter(copy.copy(train_loader)))  # (a copy: the loader's epoch count stays)
    train_step(model, opt_state, images, labels)
    shapes = set()
    for images, _ in copy.copy(test_loader):
        if images.shape not in shapes:  # (once per shape: more calls would only compete with the compiler)
            shapes.add(images.shape)
            predict(model, images)
    mg.wait_for_compiles()


def checkpoint(model, opt_state, epoch: int, losses: list[float], steps: int) -> dict:
    """What --save writes: the loss history is padded with NaN to the run's length so that a
    checkpoint of any epoch has one structure (``mg.load`` checks shapes against ``like``)."""
    history = np.full(steps, np.nan, np.float32)
    history[:len(losses)] = losses
    return {"model": model, "opt_state": opt_state, "epoch": epoch, "losses": history}


def resume(args, model, opt_state, steps: int, load=mg.load, say=print):
    """(next epoch, model, optimizer state, losses) from the checkpoint at ``args.save``, or the
    fresh ones given when there is no checkpoint yet (``load``: how to read it, rank 0's file
    for every rank when distributed)."""
    try:
        saved = load(args.save, like=checkpoint(model, opt_state, 0, [], steps))
    except FileNotFoundError:
        say(f"no checkpoint at {args.save} yet: starting at epoch 1")
        return 0, model, opt_state, []
    except mg.CheckpointError as e:
        raise SystemExit(f"cannot resume: {e}\n(--resume needs the --epochs and --batch-size of the run that "
                         "saved the checkpoint)") from None
    epoch = saved["epoch"]
    say(f"resuming from {args.save}: {epoch} of {args.epochs} epochs done")
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
    parser.add_argument("--repeatable", action=argparse.BooleanOptionalAction, default=True,
                        help="compile before training, so that a seed gives the same numbers whether the compile cache "
                             "is empty or warm (default: on; --no-repeatable starts at once with NumPy and switches to "
                             "compiled code as it arrives, which changes the last digits)")
    parser.add_argument("--distributed", action="store_true",
                        help="data-parallel training over MPI, launched with mpiexec -n N (needs "
                             "pip install -e \".[distributed]\"); --batch-size is the global batch")
    args = parser.parse_args(argv)
    if args.resume and not args.save:
        parser.error("--resume needs --save PATH (the checkpoint to continue from and to keep saving to)")
    dist = None
    if args.distributed:
        from micrograd import distributed as dist
        try:
            dist.require_mpi("--distributed")
        except dist.MPINotAvailableError as e:
            parser.error(str(e))
    main_rank = dist is None or dist.is_main()
    say = print if main_rank else (lambda *a, **k: None)  # rank 0 speaks for the job

    start = time.perf_counter()
    # drop_last: every step sees a full batch, so the jitted step compiles for one shape only
    train_loader, test_loader = mnist.load_data(batch_size=args.batch_size, root=args.data,
                                                download=not args.no_download, seed=args.seed,
                                                drop_last=True, augment=args.augment, flatten=flatten)
    if dist is not None:  # this rank's share of every batch (--batch-size stays the global batch)
        try:
            train_loader, test_loader = train_loader.shard(), test_loader.shard()
        except ValueError as e:
            parser.error(str(e))
        say(f"data-parallel on {dist.size()} processes (MPI ranks), {args.batch_size // dist.size()} images of each "
            "batch per process")
    n_train, n_test = len(train_loader.inputs), len(test_loader.inputs)
    say(f"MNIST: {n_train} training and {n_test} test images"
        + (" (a subset: the full training set has 60,000)" if n_train < 60000 else ""))

    model = build(mg.random.key(args.seed))
    if dist is not None:
        model = dist.broadcast_parameters(model)  # every replica starts from rank 0's weights
    say(f"model: {build.__doc__.splitlines()[0]}, "
        f"{sum(np.size(p) for p in mg.tree.leaves(model))} parameters")
    loss_function = mg.CrossEntropyLoss()
    # cosine decay to zero over the run: large steps early, fine ones at the end
    optimizer = mg.Adam(learning_rate=mg.optim.schedules.cosine_decay(args.lr, args.epochs * len(train_loader)))
    if dist is not None:
        optimizer = dist.DistributedOptimizer(optimizer)  # gradients averaged over the ranks before each update
    opt_state = optimizer.init(model)
    # forward, backward and the Adam update compile into one program (mg.jit)
    train_step = mg.optim.make_train_step(lambda m, x, y: loss_function(m(x), y), optimizer)

    if args.repeatable or dist is not None:  # (every replica must run the same code, or they part in the last bits)
        compile_first(train_step, model, opt_state, train_loader, test_loader)
    steps = args.epochs * len(train_loader)
    losses: list[float] = []
    start_epoch = 0
    if args.resume:
        start_epoch, model, opt_state, losses = resume(args, model, opt_state, steps,
                                                       load=mg.load if dist is None else dist.load, say=say)
        train_loader.epoch = start_epoch  # the shuffles and augmentations of the epochs still to come
    for epoch in range(start_epoch, args.epochs):
        epoch_losses = []
        with mg.viz.progress(total=len(train_loader) * args.batch_size, desc=f"epoch {epoch + 1}/{args.epochs}",
                             unit="img", leave=False, disable=not main_rank) as bar:
            for images, labels in train_loader:
                model, opt_state, loss = train_step(model, opt_state, images, labels)
                epoch_losses.append(float(loss))
                bar.update(len(labels) * (1 if dist is None else dist.size()))
                bar.set_postfix(loss=f"{np.mean(epoch_losses[-20:]):.4f}")
        if dist is not None:  # each step's loss over the global batch: the mean of the ranks' losses
            epoch_losses = dist.allreduce(np.array(epoch_losses), "mean").tolist()
        losses += epoch_losses
        say(f"epoch {epoch + 1}/{args.epochs}  loss {np.mean(epoch_losses):.4f}  "
            f"test accuracy {100 * accuracy(model, test_loader, dist):.2f}%  ({time.perf_counter() - start:.1f} s)")
        if args.save and main_rank:
            mg.save(args.save, checkpoint(model, opt_state, epoch + 1, losses, steps))

    final = accuracy(model, test_loader, dist)
    say(f"Test Accuracy: {100 * final:.2f}% on {n_test} images, {time.perf_counter() - start:.1f} s in all")
    if args.plot and main_rank and mg.viz.save_loss_curve(losses, args.plot, title="MNIST training loss"):
        say(f"loss curve saved to {args.plot}")
    return final


if __name__ == "__main__":
    main()
