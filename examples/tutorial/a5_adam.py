"""Appendix A.5 (优化器): ``mg.Adam`` in a training loop, as the tutorial writes it.

    python examples/tutorial/a5_adam.py

Lines marked ``CHANGED`` differ from the tutorial, with the reason.
"""
import micrograd as mg

params = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
optimizer = mg.Adam(learning_rate=0.01)
loss_function = mg.MSELoss()

# 训练模型
for epoch in range(100):
    y = mg.tensor([2.0, 4.0, 6.0], requires_grad=True)
    # CHANGED: the tutorial makes y_pred a new tensor, `mg.tensor([2.1, 4.2, 6.3], ...)`, so the
    # loss does not depend on params: backward() gives params no gradient and step() has
    # nothing to follow (the loss stays 0.0467 forever). Here the prediction is computed from
    # the parameters, y_pred = 2.1 * params, which has the same value at the start.
    y_pred = 2.1 * params
    loss = loss_function(y_pred, y)

    # 反向传播
    loss.backward()

    # 更新参数
    optimizer.step(params)

    # 打印进度
    if epoch % 10 == 0:
        print(f"Epoch {epoch}: Loss = {loss}")

# ADDED: params approach y / 2.1 = [0.952, 1.905, 2.857], where the loss is 0
print(f"params: {params.numpy().round(3).tolist()}, final loss {loss_function(2.1 * params, y).item():.3g}")
