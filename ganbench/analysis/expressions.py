"""Conditions on metric values, as users write them (``--success "modes_captured >= 7
and hq_fraction >= 0.5"``), evaluated safely: the expression is parsed with ``ast``
and only metric names, numbers, arithmetic, comparisons and and/or/not are evaluated
(never ``eval``)."""
from __future__ import annotations

import ast
import operator

import numpy as np

_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt,
            ast.GtE: operator.ge, ast.Eq: operator.eq, ast.NotEq: operator.ne}
_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
          ast.Div: operator.truediv, ast.Pow: operator.pow}


class BadExpression(Exception):
    """What is wrong with a success expression (becomes an InputError)."""


def evaluate(node, columns: dict, names: set) -> np.ndarray:
    """Evaluate a parsed success expression over the columns (numpy arrays); only
    metric names, numbers, arithmetic, comparisons and and/or/not are allowed."""
    def cond(n):
        v = evaluate(n, columns, names)
        if v.dtype != bool:
            raise BadExpression(f"{ast.unparse(n)!r} is a number, not a condition")
        return v

    def num(n):
        v = evaluate(n, columns, names)
        if v.dtype == bool:
            raise BadExpression(f"{ast.unparse(n)!r} is a condition, not a number")
        return v

    if isinstance(node, ast.Expression):
        return evaluate(node.body, columns, names)
    if isinstance(node, ast.Name):
        if node.id not in columns:
            raise BadExpression(f"unknown metric {node.id!r}")
        names.add(node.id)
        return columns[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return np.asarray(float(node.value))
    if isinstance(node, ast.BoolOp):
        f = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        out = cond(node.values[0])
        for v in node.values[1:]:
            out = f(out, cond(v))
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.BitAnd, ast.BitOr)):
        f = np.logical_and if isinstance(node.op, ast.BitAnd) else np.logical_or
        return f(cond(node.left), cond(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
        return np.logical_not(cond(node.operand))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = num(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _ARITH[type(node.op)](num(node.left), num(node.right))
    if isinstance(node, ast.Compare) and all(type(o) in _COMPARE for o in node.ops):
        out, left = None, num(node.left)
        for op, right in zip(node.ops, node.comparators):
            right = num(right)
            c = _COMPARE[type(op)](left, right)
            out = c if out is None else np.logical_and(out, c)
            left = right
        return np.asarray(out, dtype=bool)
    raise BadExpression(f"{ast.unparse(node)!r} is not allowed (use metric names, numbers, "
               "+ - * /, comparisons, and/or/not)")
