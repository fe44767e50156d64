"""Pixel-by-pixel sampling for the PixelCNN family: naive and cached (fast) generation.

Both methods run inside one ``tf.function`` (a ``tf.while_loop`` over rows, one over columns,
channels unrolled) and draw value ``i = (r * W + c) * C + ch`` from its conditional with the
stateless random numbers ``u_i = stateless_uniform(fold_in(seed, i))``: a Bernoulli pixel is
``u_i < sigmoid(logit)``, a categorical one ``argmax(logits + Gumbel(u_i))``. So for the same seed
and weights the two methods produce the same images, except where float rounding of the logits
(different summation order) moves a probability across ``u_i``, which is rare.

* ``"naive"``: one full network pass over the partly generated image for every value (the
  reference): ``H * W * C`` passes of ``H * W`` positions each.
* ``"cached"`` (Ramachandran et al. 2017, "Fast Generation for Convolutional Autoregressive
  Models"): every activation at pixel ``p`` depends on pixels before ``p`` only, so each layer's
  output at ``p`` is computed once, when ``p`` is generated, from a cache of that layer's input
  rows (the rows its kernel reads: the ``k // 2`` previous rows and the current row). Models
  kind (``model.cache_kind``, ``"plain"`` or ``"gated"``) has three hooks here: ``init(model, n,
  labels) -> (state, consts)``, ``row(model, state, consts, x_pad, r) -> (state, row)`` at the
  start of each row (the gated model computes its vertical stack for the whole row there) and
  ``pixel(model, state, consts, row, x_pad, r, c) -> (logits, state)``. Work per image falls
  from ``O((H W)^2)`` to ``O(H W)`` network positions.

The completion checks, the Bernoulli / Gumbel-max draws and the per-model ``tf.function`` cache
are shared with NADE (:mod:`tfgen.models.autoregressive`).
"""

from __future__ import annotations

import tensorflow as tf

from tfgen.models import autoregressive

METHODS = ("cached", "naive")


def window(layer, padded: tf.Tensor, r, c) -> tf.Tensor:
    """The inputs ``layer`` reads for the output centred at ``(r, c)`` of the padded array."""
    dr0, dr1, dc0, dc1 = layer.window_offsets
    return padded[:, r + dr0 : r + dr1 + 1, c + dc0 : c + dc1 + 1]


def put(row: tf.Tensor, col, value: tf.Tensor) -> tf.Tensor:
    """``row[:, col] = value`` for a ``[N, W, F]`` buffer (functional update)."""
    n = tf.shape(row)[0]
    indices = tf.stack([tf.range(n), tf.fill([n], tf.cast(col, tf.int32))], axis=1)
    return tf.tensor_scatter_nd_update(row, indices, tf.cast(value, row.dtype))


def gate(t: tf.Tensor) -> tf.Tensor:
    """``tanh(a) * sigmoid(b)`` with ``a, b`` the even / odd channels (keeps channel groups)."""
    return tf.tanh(t[..., 0::2]) * tf.sigmoid(t[..., 1::2])


def at(layer, t: tf.Tensor) -> tf.Tensor:
    """A 1x1 masked conv at one position: ``[N, F_in] -> [N, F_out]``."""
    return layer.call_window(t[:, None, None, :])


# ----------------------------------------------------------------------- PixelCNN hooks
def plain_init(model, n, labels):
    """Per-block activation rows (zeros): ``(previous rows, current row)`` buffers."""
    w, k = model.event_shape[1], model.kernel_size
    zeros = lambda *s: tf.zeros([n, *s], model.compute_dtype)  # noqa: E731
    conds = model._conditions(labels, model.num_layers + 1, 2 * model.filters)
    state = [
        (zeros(k // 2, w + k - 1, model.filters), zeros(w + k - 1, model.filters))
        for _ in range(model.num_layers)
    ]
    return state, conds


def plain_row(model, state, consts, x_pad, r):
    """Start of row ``r``: the finished row moves into the previous-rows buffers."""
    state = [
        (tf.concat([prev[:, 1:], cur[:, None]], axis=1), tf.zeros_like(cur)) for prev, cur in state
    ]
    return state, None


def plain_pixel(model, state, consts, row, x_pad, r, c):
    """Logits ``[N, C * params]`` at ``(r, c)`` and the updated buffers."""
    conds, k, p = consts, model.kernel_size, model.first_kernel_size // 2
    h = model.input_conv.call_window(window(model.input_conv, x_pad, r + p, c + p))
    if conds[0] is not None:
        h += conds[0]
    new_state = []
    for i, (prev, cur) in enumerate(state):
        t = tf.nn.relu(at(model.down[i], tf.nn.relu(h)))
        cur = put(cur, c + k // 2, t)
        win = tf.concat([prev[:, :, c : c + k], cur[:, None, c : c + k]], axis=1)
        h = h + at(model.up[i], tf.nn.relu(model.convs[i].call_window(win)))
        if conds[i + 1] is not None:
            h += conds[i + 1]
        new_state.append((prev, cur))
    return model._output(h, at=True), new_state


# ----------------------------------------------------------------------- GatedPixelCNN hooks
def gated_init(model, n, labels):
    """Vertical stack: previous rows per layer; horizontal stack: current row per layer."""
    w = model.event_shape[1]
    k, f = model.kernel_size, model.filters
    zeros = lambda *s: tf.zeros([n, *s], model.compute_dtype)  # noqa: E731
    v_rows = [zeros(k // 2, w + k - 1, f) for _ in range(model.num_layers - 1)]
    h_rows = [zeros(w + k - 1, f) for _ in range(model.num_layers - 1)]
    conds = model._conditions(labels, model.num_layers, 2 * f)
    return (v_rows, h_rows), conds


def gated_row(model, state, consts, x_pad, r):
    """Computes the vertical stack of row ``r`` (it depends on rows above only)."""
    v_rows, h_rows = state
    conds, k = consts, model.kernel_size
    p = model.first_kernel_size // 2
    v = model.v_convs[0].call_valid(x_pad[:, r : r + p])[:, 0]  # x rows r-p .. r-1
    h_from_v, new_rows = [], []
    for i in range(model.num_layers):
        if i > 0:
            padded = tf.pad(v, [[0, 0], [k // 2, k // 2], [0, 0]])
            rows = tf.concat([v_rows[i - 1], padded[:, None]], axis=1)
            new_rows.append(rows[:, 1:])
            v = model.v_convs[i].call_valid(rows)[:, 0]
        cond = None if conds[i] is None else conds[i][:, None]
        v, gate_in = model._layer(i, v, 0.0, None, cond)
        h_from_v.append(gate_in)
    return (new_rows, [tf.zeros_like(h) for h in h_rows]), h_from_v


def gated_pixel(model, state, consts, row, x_pad, r, c):
    """Horizontal stack and logits at ``(r, c)`` from the row's vertical-stack inputs."""
    v_rows, h_rows = state
    k, p = model.kernel_size, model.first_kernel_size // 2
    gate_in = model.h_convs[0].call_window(window(model.h_convs[0], x_pad, r + p, c + p))
    h = at(model.h_out[0], gate(gate_in + row[0][:, c]))
    new_h_rows = []
    for i in range(1, model.num_layers):
        cur = put(h_rows[i - 1], c + k // 2, h)
        gate_in = model.h_convs[i].call_window(cur[:, None, c : c + k // 2 + 1])
        h = h + at(model.h_out[i], gate(gate_in + row[i][:, c]))
        new_h_rows.append(cur)
    return model._output(h, at=True), (v_rows, new_h_rows)


HOOKS = {
    "plain": (plain_init, plain_row, plain_pixel),
    "gated": (gated_init, gated_row, gated_pixel),
}


def check_completion(model, num_samples, observed, mask):
    """Validates ``observed``/``mask`` and returns them as ``[N, H, W, C]`` float32 / bool.

    :func:`tfgen.models.autoregressive.check_completion` plus a range check: ``observed`` holds
    images in [0, 1], returned as the values the network reads (``model.network_input``).
    Without ``observed`` both are returned as "nothing observed" (zeros, all false).

    Raises:
        ValueError: naming ``observed`` or ``mask``.
    """
    shape = [num_samples, *model.event_shape]
    observed, mask = autoregressive.check_completion(model.event_shape, num_samples, observed, mask)
    if observed is None:
        return tf.zeros(shape), tf.zeros(shape, tf.bool)
    if tf.executing_eagerly():
        values = observed.numpy()
        if values.size and (values.min() < 0.0 or values.max() > 1.0):
            raise ValueError(f"observed must be images in [0, 1]; got range [{values.min()}, "
                             f"{values.max()}]")  # fmt: skip
    return model.network_input(observed), mask


def _draw(likelihood, logits, seed, index, channel, channels):
    """One value per sample from the pixel's logits ``[N, C * params]``, as an image value."""
    params = likelihood.params_per_channel
    n = tf.shape(logits)[0]
    logits = tf.reshape(tf.cast(logits, tf.float32), [n, channels, params])[:, channel]
    u = tf.random.stateless_uniform(
        [n, params], seed=tf.random.experimental.stateless_fold_in(seed, index)
    )
    if params == 1:
        value = autoregressive.bernoulli_draw(logits[:, 0], u[:, 0])
    else:
        gumbel = autoregressive.gumbel_noise(tf.clip_by_value(u, 1e-20, 1.0 - 1e-7))
        value = tf.cast(autoregressive.gumbel_max(logits, gumbel), tf.float32)
    return likelihood.from_support(value)


def _generate(model, method, n, seed, labels, observed, mask):
    height, width, channels = model.event_shape
    p = model.first_kernel_size // 2
    cached = method == "cached"
    x_pad = tf.zeros([n, height + 2 * p, width + 2 * p, channels])
    cache_init, cache_row, cache_pixel = HOOKS[model.cache_kind]
    state, consts = cache_init(model, n, labels) if cached else ((), None)
    batch = tf.range(n)

    def row_body(r, x_pad, state):
        row = None
        if cached:
            state, row = cache_row(model, state, consts, x_pad, r)

        def col_body(c, x_pad, state):
            new_state = state
            for ch in range(channels):
                if cached:
                    logits, new_state = cache_pixel(model, state, consts, row, x_pad, r, c)
                else:
                    image = x_pad[:, p : p + height, p : p + width]
                    logits = model.logits(image, labels)[:, r, c]
                index = (r * width + c) * channels + ch
                value = _draw(model.image_likelihood, logits, seed, index, ch, channels)
                value = tf.where(mask[:, r, c, ch], observed[:, r, c, ch], value)
                where = tf.stack(
                    [batch, tf.fill([n], r + p), tf.fill([n], c + p), tf.fill([n], ch)], axis=1
                )
                x_pad = tf.tensor_scatter_nd_update(x_pad, where, value)
            return c + 1, x_pad, new_state

        _, x_pad, state = tf.while_loop(lambda c, *_: c < width, col_body, (0, x_pad, state))
        return r + 1, x_pad, state

    _, x_pad, _ = tf.while_loop(lambda r, *_: r < height, row_body, (0, x_pad, state))
    return x_pad[:, p : p + height, p : p + width]


def sample(model, method, num_samples, seed, labels, observed, mask) -> tf.Tensor:
    """Runs ``method`` (``"cached"`` or ``"naive"``) in a cached ``tf.function`` of ``model``.

    Arguments are already validated (see ``_PixelCNNBase.sample``); ``seed`` is a ``[2]`` int32
    stateless seed.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {method!r}")
    n = tf.convert_to_tensor(num_samples, tf.int32)
    generate = autoregressive.cached_function(
        model, method, lambda model, *args: _generate(model, method, *args)
    )
    return generate(n, tf.cast(seed, tf.int32), labels, observed, mask)
