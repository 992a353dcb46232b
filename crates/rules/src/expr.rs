//! Expressions: a recursive-descent parser with JavaScript's precedence, and their evaluation with JavaScript's
//! loose typing under a step and size budget.
//!
//! ```text
//! or      := and ('||' and)*
//! and     := eq ('&&' eq)*
//! eq      := rel (('==' | '!=' | '===' | '!==') rel)*
//! rel     := add (('<' | '<=' | '>' | '>=') add)*
//! add     := mul (('+' | '-') mul)*
//! mul     := unary (('*' | '/' | '%' | 'include') unary)*     (include: the original's level)
//! unary   := ('!' | '-' | '+') unary | primary
//! primary := number | string | true | false | @name | '(' or ')'
//! ```

use crate::lexer::{lex, Tok};
use crate::limits::{MAX_DEPTH, MAX_EVAL_STEPS, MAX_NODES, MAX_STRING_BYTES, MAX_TEXT_CHARS};
use crate::value::{loose_eq, strict_eq, Value, Vars};
use crate::{ParseError, TooCostly};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Include,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnOp {
    Not,
    Neg,
    Plus,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Lit(Value),
    Var(String),
    Unary(UnOp, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
}

/// A parsed condition. Cheap to evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    root: Node,
    vars: Vec<String>,
}

impl Expression {
    /// Parses a whole text as one expression.
    pub fn parse(text: &str) -> Result<Expression, ParseError> {
        let chars: Vec<char> = text.chars().collect();
        if chars.len() > MAX_TEXT_CHARS {
            return Err(ParseError { offset: MAX_TEXT_CHARS, message: format!("longer than {MAX_TEXT_CHARS} characters") });
        }
        let (tokens, end) = lex(&chars, 0, false)?;
        let mut nodes = 0;
        let root = parse_tokens(&tokens, end, &mut nodes)?;
        Ok(Expression::from_node(root))
    }

    pub(crate) fn from_node(root: Node) -> Expression {
        let mut vars = Vec::new();
        collect_vars(&root, &mut vars);
        Expression { root, vars }
    }

    /// The value the expression gives (`&&` and `||` give one of their operands, as in JavaScript).
    pub fn evaluate(&self, vars: &dyn Vars) -> Result<Value, TooCostly> {
        let mut budget = Budget { steps: MAX_EVAL_STEPS };
        eval(&self.root, vars, &mut budget)
    }

    /// Whether the rule fires: the value's truthiness (a budget overrun does not fire).
    pub fn matches(&self, vars: &dyn Vars) -> bool {
        self.evaluate(vars).is_ok_and(|v| v.truthy())
    }

    /// The variables it reads, each once, in order of appearance.
    pub fn variables(&self) -> &[String] {
        &self.vars
    }
}

fn collect_vars(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::Lit(_) => {}
        Node::Var(v) => {
            if !out.contains(v) {
                out.push(v.clone());
            }
        }
        Node::Unary(_, a) => collect_vars(a, out),
        Node::Binary(_, a, b) => {
            collect_vars(a, out);
            collect_vars(b, out);
        }
    }
}

/// Parses `tokens` as one expression; `end` is the offset reported when the tokens run out.
pub(crate) fn parse_tokens(tokens: &[(usize, Tok)], end: usize, nodes: &mut usize) -> Result<Node, ParseError> {
    if tokens.is_empty() {
        return Err(ParseError { offset: end, message: "expected an expression".into() });
    }
    let mut p = Parser { tokens, pos: 0, end, depth: 0, nodes };
    let node = p.or()?;
    match p.peek() {
        None => Ok(node),
        Some((offset, tok)) => Err(ParseError { offset, message: format!("unexpected {} after a complete expression", tok.describe()) }),
    }
}

struct Parser<'a> {
    tokens: &'a [(usize, Tok)],
    pos: usize,
    end: usize,
    depth: usize,
    nodes: &'a mut usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<(usize, &Tok)> {
        self.tokens.get(self.pos).map(|(o, t)| (*o, t))
    }

    fn offset(&self) -> usize {
        self.peek().map(|(o, _)| o).unwrap_or(self.end)
    }

    fn node(&mut self, node: Node) -> Result<Node, ParseError> {
        *self.nodes += 1;
        if *self.nodes > MAX_NODES {
            return Err(ParseError { offset: self.offset(), message: format!("more than {MAX_NODES} operators and operands") });
        }
        Ok(node)
    }

    /// One left-associative level: `next (op next)*` for the operators `ops` maps.
    fn level(&mut self, ops: fn(&Tok) -> Option<BinOp>, next: fn(&mut Self) -> Result<Node, ParseError>) -> Result<Node, ParseError> {
        let mut left = next(self)?;
        while let Some(op) = self.peek().and_then(|(_, t)| ops(t)) {
            self.pos += 1;
            let right = next(self)?;
            left = self.node(Node::Binary(op, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn or(&mut self) -> Result<Node, ParseError> {
        self.level(|t| matches!(t, Tok::Or).then_some(BinOp::Or), Self::and)
    }

    fn and(&mut self) -> Result<Node, ParseError> {
        self.level(|t| matches!(t, Tok::And).then_some(BinOp::And), Self::eq)
    }

    fn eq(&mut self) -> Result<Node, ParseError> {
        let ops = |t: &Tok| match t {
            Tok::Eq => Some(BinOp::Eq),
            Tok::Ne => Some(BinOp::Ne),
            Tok::StrictEq => Some(BinOp::StrictEq),
            Tok::StrictNe => Some(BinOp::StrictNe),
            _ => None,
        };
        self.level(ops, Self::rel)
    }

    fn rel(&mut self) -> Result<Node, ParseError> {
        let ops = |t: &Tok| match t {
            Tok::Lt => Some(BinOp::Lt),
            Tok::Le => Some(BinOp::Le),
            Tok::Gt => Some(BinOp::Gt),
            Tok::Ge => Some(BinOp::Ge),
            _ => None,
        };
        self.level(ops, Self::add)
    }

    fn add(&mut self) -> Result<Node, ParseError> {
        let ops = |t: &Tok| match t {
            Tok::Plus => Some(BinOp::Add),
            Tok::Minus => Some(BinOp::Sub),
            _ => None,
        };
        self.level(ops, Self::mul)
    }

    fn mul(&mut self) -> Result<Node, ParseError> {
        let ops = |t: &Tok| match t {
            Tok::Star => Some(BinOp::Mul),
            Tok::Slash => Some(BinOp::Div),
            Tok::Percent => Some(BinOp::Rem),
            Tok::Include => Some(BinOp::Include),
            _ => None,
        };
        self.level(ops, Self::unary)
    }

    fn unary(&mut self) -> Result<Node, ParseError> {
        let op = match self.peek() {
            Some((_, Tok::Not)) => UnOp::Not,
            Some((_, Tok::Minus)) => UnOp::Neg,
            Some((_, Tok::Plus)) => UnOp::Plus,
            _ => return self.primary(),
        };
        self.pos += 1;
        let operand = self.nested(Self::unary)?;
        self.node(Node::Unary(op, Box::new(operand)))
    }

    /// Recursion that nests (parentheses, unary operators), under the depth limit.
    fn nested(&mut self, f: fn(&mut Self) -> Result<Node, ParseError>) -> Result<Node, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError { offset: self.offset(), message: format!("nested more than {MAX_DEPTH} deep") });
        }
        let node = f(self);
        self.depth -= 1;
        node
    }

    fn primary(&mut self) -> Result<Node, ParseError> {
        let Some((offset, tok)) = self.peek() else {
            return Err(ParseError { offset: self.end, message: "expected a value, found the end".into() });
        };
        let node = match tok {
            Tok::Num(n) => Node::Lit(Value::Num(*n)),
            Tok::Str(s) => Node::Lit(Value::Str(s.clone())),
            Tok::True => Node::Lit(Value::Bool(true)),
            Tok::False => Node::Lit(Value::Bool(false)),
            Tok::Var(v) => Node::Var(v.clone()),
            Tok::LParen => {
                self.pos += 1;
                let inner = self.nested(Self::or)?;
                return match self.peek() {
                    Some((_, Tok::RParen)) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    Some((o, t)) => {
                        Err(ParseError { offset: o, message: format!("expected ')' to close the '(' at character {}, found {}", offset + 1, t.describe()) })
                    }
                    None => Err(ParseError { offset, message: "'(' is never closed".into() }),
                };
            }
            other => return Err(ParseError { offset, message: format!("expected a value, found {}", other.describe()) }),
        };
        self.pos += 1;
        self.node(node)
    }
}

struct Budget {
    steps: usize,
}

impl Budget {
    fn step(&mut self) -> Result<(), TooCostly> {
        self.steps = self.steps.checked_sub(1).ok_or(TooCostly)?;
        Ok(())
    }
}

fn eval(node: &Node, vars: &dyn Vars, budget: &mut Budget) -> Result<Value, TooCostly> {
    budget.step()?;
    Ok(match node {
        Node::Lit(v) => v.clone(),
        Node::Var(name) => {
            let v = vars.var(name);
            if v.weight() > MAX_STRING_BYTES {
                return Err(TooCostly);
            }
            v
        }
        Node::Unary(op, a) => {
            let a = eval(a, vars, budget)?;
            match op {
                UnOp::Not => Value::Bool(!a.truthy()),
                UnOp::Neg => Value::Num(-a.to_number()),
                UnOp::Plus => Value::Num(a.to_number()),
            }
        }
        Node::Binary(BinOp::And, a, b) => {
            let a = eval(a, vars, budget)?;
            match a.truthy() {
                true => eval(b, vars, budget)?,
                false => a,
            }
        }
        Node::Binary(BinOp::Or, a, b) => {
            let a = eval(a, vars, budget)?;
            match a.truthy() {
                true => a,
                false => eval(b, vars, budget)?,
            }
        }
        Node::Binary(op, a, b) => {
            let a = eval(a, vars, budget)?;
            let b = eval(b, vars, budget)?;
            binary(*op, &a, &b)?
        }
    })
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, TooCostly> {
    let num = |f: fn(f64, f64) -> f64| Value::Num(f(a.to_number(), b.to_number()));
    Ok(match op {
        BinOp::Add => match (a, b) {
            (Value::Str(_), _) | (_, Value::Str(_)) => {
                if a.weight() + b.weight() > MAX_STRING_BYTES {
                    return Err(TooCostly);
                }
                Value::Str(a.to_js_string() + &b.to_js_string())
            }
            _ => num(|x, y| x + y),
        },
        BinOp::Sub => num(|x, y| x - y),
        BinOp::Mul => num(|x, y| x * y),
        BinOp::Div => num(|x, y| x / y),
        BinOp::Rem => num(|x, y| x % y),
        BinOp::Include => Value::Bool(a.to_js_string().contains(&b.to_js_string())),
        BinOp::Eq => Value::Bool(loose_eq(a, b)),
        BinOp::Ne => Value::Bool(!loose_eq(a, b)),
        BinOp::StrictEq => Value::Bool(strict_eq(a, b)),
        BinOp::StrictNe => Value::Bool(!strict_eq(a, b)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Value::Bool(compare(op, a, b)),
        BinOp::And | BinOp::Or => unreachable!("short-circuit operators are evaluated in `eval`"),
    })
}

/// JavaScript's relational comparison: two strings by code units, anything else as numbers (NaN: false).
fn compare(op: BinOp, a: &Value, b: &Value) -> bool {
    let ordering = match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.encode_utf16().cmp(y.encode_utf16())),
        _ => a.to_number().partial_cmp(&b.to_number()),
    };
    let Some(ordering) = ordering else { return false };
    match op {
        BinOp::Lt => ordering.is_lt(),
        BinOp::Le => ordering.is_le(),
        BinOp::Gt => ordering.is_gt(),
        _ => ordering.is_ge(),
    }
}
