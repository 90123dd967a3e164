"""Chapter 10 (多层感知机, multilayer perceptron), the tutorial's code block run eagerly.

    python examples/tutorial/ch10_mlp.py

The block runs as the tutorial writes it; the ``ADDED`` line prints the result.
"""
import micrograd as mg

# 初始化模型
model = mg.Sequential([
    mg.Linear(in_features=1, out_features=64),
    mg.ReLU(),
    mg.Linear(in_features=64, out_features=64),
    mg.ReLU(),
    mg.Linear(in_features=64, out_features=1),
])

# 定义损失函数和优化器
loss_function = mg.MSELoss()
optimizer = mg.Adam(learning_rate=0.001)

# 训练数据
x = mg.tensor([[1], [2], [3], [4], [5]], requires_grad=True)
y = mg.tensor([[2], [4], [6], [8], [10]], requires_grad=True)

# 训练模型
for epoch in range(1000):
    prediction = model(x)
    loss = loss_function(prediction, y)

    if epoch % 100 == 0:
        print(f"Epoch {epoch}: Loss = {loss}")

    optimizer.step(model.parameters(), loss)

# ADDED: the evaluation of section 10.3 (MSE) after training
with mg.no_grad():
    prediction = model(x)
    print(f"predictions: {prediction.numpy().ravel().round(3).tolist()}, "
          f"MSE {loss_function(prediction, y).item():.3g}")
