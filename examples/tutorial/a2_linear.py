"""Appendix A.2 (线性层): ``mg.Linear`` applied to one sample, as the tutorial writes it.

    python examples/tutorial/a2_linear.py

Runs unchanged. The layer computes ``x @ weight + bias`` with ``weight`` of shape
``(in_features, out_features)``; a 1-D input gives a 1-D output. The ``ADDED`` lines
back-propagate through it to show that its parameters are tensors that receive gradients.
"""
import micrograd as mg

x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
W = mg.Linear(in_features=3, out_features=2)
output = W(x)
print(f"Output: {output}")

# ADDED: gradients of sum(output) reach the layer's parameters and the input
output.sum().backward()
print(f"weight.grad: {W.weight.grad.tolist()}, bias.grad: {W.bias.grad.tolist()}, x.grad: {x.grad}")
