"""Appendix A.4 (损失函数): ``mg.MSELoss`` as the tutorial writes it, then the section's
``mg.CrossEntropyLoss``.

    python examples/tutorial/a4_losses.py

Runs unchanged; the ``ADDED`` lines compute a cross-entropy, which takes logits (scores
before any softmax) and integer class labels.
"""
import micrograd as mg

y = mg.tensor([2.0, 4.0, 6.0], requires_grad=True)
y_pred = mg.tensor([2.1, 4.2, 6.3], requires_grad=True)
loss = mg.MSELoss()(y_pred, y)
print(f"Loss: {loss}")  # (0.1^2 + 0.2^2 + 0.3^2) / 3 = 0.0467

# ADDED: the gradient of the MSE with respect to y_pred is 2 (y_pred - y) / 3
loss.backward()
print(f"y_pred.grad: {y_pred.grad}")
# ADDED: cross-entropy of two samples' logits over three classes, labels 0 and 2
logits = mg.tensor([[2.0, 0.5, -1.0], [0.1, 0.2, 3.0]], requires_grad=True)
labels = mg.tensor([0, 2])
print(f"CrossEntropyLoss: {mg.CrossEntropyLoss()(logits, labels)}")
