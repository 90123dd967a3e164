"""Chapter 8 (线性回归, linear regression), the tutorial's code block as written, run eagerly.

    python examples/tutorial/ch08_linear_regression.py

Lines marked ``CHANGED`` differ from the tutorial, with the reason; ``ADDED`` lines print a
result the tutorial only describes.
"""
import micrograd as mg

# 初始化模型
model = mg.Sequential([
    mg.Linear(in_features=1, out_features=1),
])

# 定义损失函数和优化器
loss_function = mg.MSELoss()
# CHANGED: learning_rate 0.01 -> 0.05. With 0.01 the 1,000 steps end with the weight at 1.995
# and the bias 0.02 off (loss 1e-4, still falling); 0.05 converges to y = 2x.
optimizer = mg.SGD(learning_rate=0.05)

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

# ADDED: what was learned (the tutorial's model is y = beta_0 + beta_1 x)
print(f"learned y = {model[0].weight.item():.4f} x + {model[0].bias.item():.4f}, "
      f"MSE {loss_function(model(x), y).item():.3g}")
