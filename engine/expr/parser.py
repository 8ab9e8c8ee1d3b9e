"""Parse an expression string into a syntax tree. Nothing here ever executes text.

Grammar (lowest precedence first)::

    or_expr   := and_expr ("or" and_expr)*
    and_expr  := not_expr ("and" not_expr)*
    not_expr  := "not" not_expr | comparison
    comparison:= sum (("=="|"!="|"<"|"<="|">"|">=") sum | ["not"] "in" sum)?
    sum       := product (("+"|"-") product)*
    product   := unary (("*"|"/") unary)*
    unary     := "-" unary | primary
    primary   := NUMBER | STRING | true | false | null | NAME | NAME "(" args ")"
               | "[" items "]" | "(" or_expr ")"
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from . import nodes as n

MAX_LENGTH = 2000
MAX_DEPTH = 40

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+(?:\.\d+)?)
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)
KEYWORDS = {"and", "or", "not", "in", "true", "false", "null"}


class ExprSyntaxError(Exception):
    def __init__(self, message: str, pos: int, hint: str = ""):
        super().__init__(message)
        self.message, self.pos, self.hint = message, pos, hint


@dataclass(frozen=True)
class Token:
    kind: str  # number string name op kw end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(f"expression longer than {MAX_LENGTH} characters", 0,
                              "split it into several rules or named definitions")
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            ch = text[pos]
            hint = "use 'and', 'or', 'not' instead of symbols" if ch in "&|!" else \
                "use == to compare" if ch == "=" else "remove the character"
            raise ExprSyntaxError(f"unexpected character {ch!r}", pos, hint)
        kind = m.lastgroup
        if kind != "ws":
            value = m.group()
            if kind == "name" and value in KEYWORDS:
                kind = "kw"
            tokens.append(Token(kind, value, pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str):
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def accept(self, text: str) -> Token | None:
        if self.tok.text == text and self.tok.kind in ("op", "kw"):
            return self.take()
        return None

    def expect(self, text: str) -> Token:
        tok = self.accept(text)
        if tok is None:
            raise ExprSyntaxError(f"expected '{text}' but found {self._describe(self.tok)}", self.tok.pos)
        return tok

    @staticmethod
    def _describe(tok: Token) -> str:
        return "the end of the expression" if tok.kind == "end" else f"'{tok.text}'"

    def _nest(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprSyntaxError(f"expression nested deeper than {MAX_DEPTH} levels", self.tok.pos,
                                  "simplify the expression")

    def parse(self) -> n.Node:
        node = self.or_expr()
        if self.tok.kind != "end":
            raise ExprSyntaxError(f"unexpected {self._describe(self.tok)}", self.tok.pos,
                                  "join conditions with 'and' or 'or'")
        return node

    def or_expr(self) -> n.Node:
        start = self.tok.pos
        items = [self.and_expr()]
        while self.accept("or"):
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else n.Or(start, tuple(items))

    def and_expr(self) -> n.Node:
        start = self.tok.pos
        items = [self.not_expr()]
        while self.accept("and"):
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else n.And(start, tuple(items))

    def not_expr(self) -> n.Node:
        tok = self.accept("not")
        if tok:
            self._nest()
            operand = self.not_expr()
            self.depth -= 1
            return n.Not(tok.pos, operand)
        return self.comparison()

    def comparison(self) -> n.Node:
        left = self.sum()
        tok = self.tok
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.sum()
            node = n.Compare(tok.pos, tok.text, left, right)
        elif tok.kind == "kw" and tok.text == "in":
            self.take()
            node = n.In(tok.pos, left, self.sum())
        elif tok.kind == "kw" and tok.text == "not" and self.tokens[self.i + 1].text == "in":
            self.take(), self.take()
            node = n.In(tok.pos, left, self.sum(), negated=True)
        else:
            return left
        nxt = self.tok
        if nxt.kind == "op" and nxt.text in ("==", "!=", "<", "<=", ">", ">="):
            raise ExprSyntaxError("comparisons cannot be chained", nxt.pos,
                                  "write 'a <= x and x <= b' instead of 'a <= x <= b'")
        return node

    def sum(self) -> n.Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.text in ("+", "-"):
            tok = self.take()
            node = n.Arith(tok.pos, tok.text, node, self.product())
        return node

    def product(self) -> n.Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            tok = self.take()
            node = n.Arith(tok.pos, tok.text, node, self.unary())
        return node

    def unary(self) -> n.Node:
        tok = self.accept("-")
        if tok:
            self._nest()
            operand = self.unary()
            self.depth -= 1
            if isinstance(operand, n.Literal) and isinstance(operand.value, (int, Decimal)) \
                    and not isinstance(operand.value, bool):
                return n.Literal(tok.pos, -operand.value)
            return n.Neg(tok.pos, operand)
        return self.primary()

    def primary(self) -> n.Node:
        tok = self.take()
        if tok.kind == "number":
            return n.Literal(tok.pos, Decimal(tok.text) if "." in tok.text else int(tok.text))
        if tok.kind == "string":
            body = tok.text[1:-1]
            return n.Literal(tok.pos, re.sub(r"\\(.)", r"\1", body))
        if tok.kind == "kw" and tok.text in ("true", "false", "null"):
            return n.Literal(tok.pos, {"true": True, "false": False, "null": None}[tok.text])
        if tok.kind == "name":
            if self.accept("("):
                self._nest()
                args = []
                if not self.accept(")"):
                    args.append(self.or_expr())
                    while self.accept(","):
                        args.append(self.or_expr())
                    self.expect(")")
                self.depth -= 1
                return n.Call(tok.pos, tok.text, tuple(args))
            return n.Name(tok.pos, tok.text)
        if tok.kind == "op" and tok.text == "[":
            self._nest()
            items = []
            if not self.accept("]"):
                items.append(self.or_expr())
                while self.accept(","):
                    items.append(self.or_expr())
                self.expect("]")
            self.depth -= 1
            return n.ListLit(tok.pos, tuple(items))
        if tok.kind == "op" and tok.text == "(":
            self._nest()
            node = self.or_expr()
            self.expect(")")
            self.depth -= 1
            return node
        if tok.kind == "end":
            raise ExprSyntaxError("the expression ends too early", tok.pos, "complete the condition")
        raise ExprSyntaxError(f"unexpected '{tok.text}'", tok.pos)


def parse(text: str) -> n.Node:
    """Parse ``text``; raise ``ExprSyntaxError`` (with the character offset) if it is not valid."""
    if not isinstance(text, str) or not text.strip():
        raise ExprSyntaxError("the expression is empty", 0, "write a condition such as: age >= 30")
    return _Parser(text).parse()
