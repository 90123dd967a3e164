"""Chapter 9 (逻辑回归, logistic regression), the tutorial's code block run eagerly.

    python examples/tutorial/ch09_logistic_regression.py

Lines marked ``CHANGED`` differ from the tutorial, with the reason; ``ADDED`` lines print a
result the tutorial only describes.
"""
import micrograd as mg

# 初始化模型
model = mg.Sequential([
    mg.Linear(in_features=1, out_features=1),
    mg.Sigmoid(),
])

# 定义损失函数和优化器
# CHANGED: BCELoss instead of CrossEntropyLoss. CrossEntropyLoss applies a softmax over the
# classes, and over one column (this model's single Sigmoid output) softmax is always 1, so
# the loss is always 0 and nothing is learned. The log loss the chapter names, for one
# probability per sample, is binary cross-entropy.
loss_function = mg.BCELoss()
# CHANGED: learning_rate 0.01 -> 0.5: with 0.01, 1,000 steps leave the log loss near 0.29 and
# the point x = 1 on the wrong side of 0.5.
optimizer = mg.SGD(learning_rate=0.5)

# 训练数据
x = mg.tensor([[0], [1], [2], [3], [4]], requires_grad=True)
# CHANGED: labels 1, 0, 1, 0, 1 -> 0, 0, 1, 1, 1. The alternating labels cannot be separated
# by any threshold on x, which is all that sigmoid(beta_0 + beta_1 x) can express.
y = mg.tensor([[0], [0], [1], [1], [1]], requires_grad=True)

# 训练模型
for epoch in range(1000):
    prediction = model(x)
    loss = loss_function(prediction, y)

    if epoch % 100 == 0:
        print(f"Epoch {epoch}: Loss = {loss}")

    optimizer.step(model.parameters(), loss)

# ADDED: the evaluation of section 9.3 (log loss) and the accuracy at threshold 0.5
with mg.no_grad():
    probabilities = model(x)
    accuracy = ((probabilities > 0.5) == (y > 0.5)).mean().item()
    print(f"probabilities of class 1: {probabilities.numpy().ravel().round(3).tolist()}")
    print(f"log loss {loss_function(probabilities, y).item():.4f}, accuracy {100 * accuracy:.0f}%")
