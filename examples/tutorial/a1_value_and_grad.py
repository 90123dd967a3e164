"""Appendix A.1 (微分操作函数): ``mg.value_and_grad``, as the tutorial writes it; also
``mg.grad`` and ``mg.chain``, which the section lists.

    python examples/tutorial/a1_value_and_grad.py

The tutorial's block runs unchanged: transforms accept tensors and return arrays. ``ADDED``
lines show the other two functions the section names.
"""
import micrograd as mg

def f(x):
    return x**2

x = mg.tensor([1.0], requires_grad=True)
value, grad = mg.value_and_grad(f)(x)
print(f"Value: {value}, Gradient: {grad}")

# ADDED: the section's other two functions, on the same x
print(f"grad: {mg.grad(f)(x)}")                                      # d/dx x^2 = 2x
print(f"chain: {mg.chain(lambda y: (y ** 3).sum(), lambda x: 2 * x)(x)}")  # d/dx (2x)^3 = 24x^2
