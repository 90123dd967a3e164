"""Appendix A.3 (激活函数): ``mg.ReLU`` as the tutorial writes it, then the section's other
two activations.

    python examples/tutorial/a3_activations.py

Runs unchanged; the ``ADDED`` lines apply Sigmoid and Tanh and back-propagate through ReLU.
"""
import micrograd as mg

x = mg.tensor([1.0, -2.0, 3.0], requires_grad=True)
relu = mg.ReLU()
output = relu(x)
print(f"Output: {output}")

# ADDED: the other activations of the section, and ReLU's derivative (1 where x > 0, else 0)
print(f"Sigmoid: {mg.Sigmoid()(x)}")
print(f"Tanh: {mg.Tanh()(x)}")
output.sum().backward()
print(f"ReLU gradient: {x.grad}")
