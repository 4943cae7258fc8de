//! Lowering: AST → typed IR. Resolves every name to a slot, infers and checks every type,
//! and reports all the problems it finds (never only the first).
//!
//! Invariant: a program is returned only when no error was reported; every `Expr` it holds
//! has a type that the evaluator can rely on without checking again.

use super::*;
use crate::diag::{Code, Diagnostic, did_you_mean};
use crate::span::{FileId, SourceMap};
use crate::syntax::ast::{self, BinOp};
use crate::value::{Literal, fmt_money};
use std::collections::HashMap;

mod table;
mod time;

/// The most definitions one chain of references may pass through.
pub const MAX_DEF_CHAIN: usize = 32;

/// The deepest a definition may nest with the definitions it uses counted in place: how deep
/// both evaluators recurse. Each expression alone is at most
/// [`crate::syntax::MAX_EXPR_DEPTH`] deep and a chain at most [`MAX_DEF_CHAIN`] long, but 32
/// definitions that each nest 100 deep and use the next at the bottom needed more than a
/// 2 MiB stack (a rayon worker's) to evaluate. At this limit evaluation needs about 8 MiB in
/// a debug build, far less in release; the batch workers and the command line run on
/// [`crate::batch::WORKER_STACK`] (`tests/robustness.rs` holds both to it).
pub const MAX_EVAL_DEPTH: usize = 500;

/// The most expression nodes a definition may stand for with the definitions it uses counted
/// each time they are used: what evaluating it (and the lean kernel, which inlines them)
/// costs. Without it, 30 definitions that each use the one before twice stand for 2³⁰ nodes.
pub const MAX_EXPANDED_SIZE: usize = 100_000;

#[derive(Clone, Copy, Debug)]
enum ValueName {
    Fact(FactId),
    Def(DefId),
    Param(ParamId),
    Table(TableId),
}

#[derive(Clone, Copy, Debug)]
enum TypeName {
    Enum(EnumId),
    Record(RecordId),
}

#[derive(Clone, Copy, PartialEq)]
enum DefState {
    Todo,
    InProgress,
    Done(Type, usize),
    Failed,
}

/// Lowers parsed files into a program. Diagnostics are returned beside it; the caller treats
/// the program as unusable when any of them is an error.
pub fn lower(files: &[(FileId, ast::File)], sources: &SourceMap) -> (Program, Vec<Diagnostic>) {
    lower_after(files, sources, false)
}

/// As [`lower`]; `earlier_errors` says some file did not parse, so a clause it may have
/// declared is not reported again as unknown wherever a test names it.
pub fn lower_after(
    files: &[(FileId, ast::File)],
    sources: &SourceMap,
    earlier_errors: bool,
) -> (Program, Vec<Diagnostic>) {
    let mut l = Lowerer {
        sources,
        prog: Program::default(),
        diags: Vec::new(),
        types: HashMap::new(),
        type_spans: HashMap::new(),
        values: HashMap::new(),
        value_spans: HashMap::new(),
        def_ast: Vec::new(),
        def_state: Vec::new(),
        def_cost: Vec::new(),
        def_stack: Vec::new(),
        pending_excludes: Vec::new(),
        pending_granted: Vec::new(),
        pending_qualifies: Vec::new(),
        failed_clauses: std::collections::HashSet::new(),
        earlier_errors,
    };
    l.run(files);
    (l.prog, l.diags)
}

struct Lowerer<'a> {
    sources: &'a SourceMap,
    prog: Program,
    diags: Vec<Diagnostic>,
    types: HashMap<String, TypeName>,
    type_spans: HashMap<String, Span>,
    values: HashMap<String, ValueName>,
    value_spans: HashMap<String, Span>,
    def_ast: Vec<&'a ast::DefineDecl>,
    def_state: Vec<DefState>,
    /// Per definition, once lowered: its depth and size with the definitions it uses counted
    /// in place ([`MAX_EVAL_DEPTH`], [`MAX_EXPANDED_SIZE`]).
    def_cost: Vec<Cost>,
    def_stack: Vec<DefId>,
    /// `excludes` references, resolved once every document is lowered.
    pending_excludes: Vec<(ClauseId, ast::ClauseRef)>,
    /// `granted(DOC.c)` references, checked once every document is lowered (amend.rs).
    pending_granted: Vec<ast::ClauseRef>,
    /// `qualifies(DOC.c)` references: the clause exists, and no cycle (amend.rs).
    pending_qualifies: Vec<ast::ClauseRef>,
    /// Clauses that had errors: references to them are not reported again.
    failed_clauses: std::collections::HashSet<(String, String)>,
    earlier_errors: bool,
}

type R<T> = Result<T, ()>;

// Amendments (`amends`, `extends`, `repeals`), `granted(…)` checks: src/ir/amend.rs.
#[path = "amend.rs"]
mod amend;

/// Where names are looked up: the facts vocabulary, plus the fields of a list's current item.
#[derive(Clone, Copy)]
struct Scope {
    item: Option<RecordId>,
}

const TOP: Scope = Scope { item: None };

fn idx(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl<'a> Lowerer<'a> {
    fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn run(&mut self, files: &'a [(FileId, ast::File)]) {
        let items: Vec<&'a ast::Item> = files.iter().flat_map(|(_, f)| f.items.iter()).collect();
        // 1. type names
        for item in &items {
            match item {
                ast::Item::Enum(e) if self.declare_type(&e.name) => {
                    let id = idx(self.prog.enums.len());
                    self.types.insert(e.name.name.clone(), TypeName::Enum(id));
                    let mut seen: HashMap<&str, Span> = HashMap::new();
                    for (v, _) in &e.variants {
                        if let Some(prev) = seen.insert(v.name.as_str(), v.span) {
                            self.err(
                                Diagnostic::new(
                                    Code::Duplicate,
                                    format!("`{}` is listed twice in `{}`", v.name, e.name.name),
                                )
                                .at(v.span, "listed again here")
                                .also(prev, "first listed here")
                                .help("remove one of them"),
                            );
                        }
                    }
                    self.prog.enums.push(EnumDef {
                        name: e.name.name.clone(),
                        label: e.label.clone(),
                        ordered: e.ordered,
                        variants: e.variants.iter().map(|(v, _)| v.name.clone()).collect(),
                        variant_labels: e.variants.iter().map(|(_, l)| l.clone()).collect(),
                        span: e.name.span,
                    });
                }
                ast::Item::Record(r) if self.declare_type(&r.name) => {
                    let id = idx(self.prog.records.len());
                    self.types.insert(r.name.name.clone(), TypeName::Record(id));
                    self.prog.records.push(RecordDef {
                        name: r.name.name.clone(),
                        label: r.label.clone(),
                        fields: Vec::new(),
                        span: r.name.span,
                    });
                }
                _ => {}
            }
        }
        // 2. record fields
        for item in &items {
            if let ast::Item::Record(r) = item {
                let Some(TypeName::Record(id)) = self.types.get(&r.name.name).copied() else { continue };
                let mut fields: Vec<FieldDef> = Vec::new();
                for f in &r.fields {
                    if fields.iter().any(|g| g.name == f.name.name) {
                        self.err(
                            Diagnostic::new(
                                Code::Duplicate,
                                format!("field `{}` is declared twice", f.name.name),
                            )
                            .at(f.name.span, "declared again here")
                            .help("give the field another name or remove it"),
                        );
                        continue;
                    }
                    if let Ok(ty) = self.type_expr(&f.ty, false) {
                        self.check_signed(f.signed, ty, f.name.span);
                        let (never, default) =
                            self.never_and_default(ty, f.never, f.default.as_ref(), f.name.span);
                        fields.push(FieldDef {
                            name: f.name.name.clone(),
                            label: f.label.clone(),
                            ty,
                            signed: f.signed,
                            never,
                            default,
                        });
                    }
                }
                if let Some(rd) = self.prog.records.get_mut(id as usize) {
                    rd.fields = fields;
                }
            }
        }
        // 3. facts, definitions, parameters
        for item in &items {
            match item {
                ast::Item::Fact(f) => {
                    let Ok(ty) = self.type_expr(&f.ty, true) else { continue };
                    self.check_signed(f.signed, ty, f.name.span);
                    let (never, default) =
                        self.never_and_default(ty, f.never, f.default.as_ref(), f.name.span);
                    if self.declare_value(&f.name) {
                        let id = idx(self.prog.facts.len());
                        self.values.insert(f.name.name.clone(), ValueName::Fact(id));
                        self.prog.fact_index.insert(f.name.name.clone(), id);
                        self.prog.facts.push(FactDef {
                            name: f.name.name.clone(),
                            label: f.label.clone(),
                            ty,
                            signed: f.signed,
                            never,
                            default,
                            monthly: matches!(f.ty, ast::TypeExpr::Monthly(_)),
                            span: f.name.span,
                        });
                    }
                }
                ast::Item::Define(d) if self.declare_value(&d.name) => {
                    let id = idx(self.def_ast.len());
                    self.values.insert(d.name.name.clone(), ValueName::Def(id));
                    self.def_ast.push(d);
                    self.def_state.push(DefState::Todo);
                    self.def_cost.push(Cost::default());
                    self.prog.defs.push(DefDef {
                        name: d.name.name.clone(),
                        record: None,
                        label: d.label.clone(),
                        expr: placeholder(d.name.span),
                        span: d.name.span,
                    });
                }
                ast::Item::Parameter(p) => self.parameter(p),
                _ => {}
            }
        }
        // tables read parameters; definitions and clauses read tables
        for item in &items {
            if let ast::Item::Table(t) = item {
                self.table(t);
            }
        }
        for id in 0..self.def_ast.len() {
            let _ = self.ensure_def(idx(id), None);
        }
        // 4. documents
        let mut policy_spans: HashMap<String, Span> = HashMap::new();
        for item in &items {
            if let ast::Item::Policy(p) = item {
                if !valid_key(&p.key.name) {
                    self.err(
                        Diagnostic::new(
                            Code::InvalidKey,
                            format!("the document key `{}` is not a letter followed by letters and digits", p.key.name),
                        )
                        .at(p.key.span, "tests, ledgers and `excludes` could not name this key")
                        .help(format!(
                            "a key is a letter (any script) then letters and digits, e.g. `E23`, `TH23` or `津23`; rename it, e.g. `{}`",
                            suggest_key(&p.key.name)
                        )),
                    );
                    continue;
                }
                if let Some(prev) = policy_spans.insert(p.key.name.clone(), p.key.span) {
                    self.err(
                        Diagnostic::new(Code::Duplicate, format!("document `{}` is declared twice", p.key.name))
                            .at(p.key.span, "declared again here")
                            .also(prev, "first declared here")
                            .help("each document has one rule file with one `policy` block; give this one another key"),
                    );
                    continue;
                }
                self.policy(p);
            }
        }
        // excludes may name clauses of documents lowered later
        for (me, r) in std::mem::take(&mut self.pending_excludes) {
            if let Some(target) = self.clause_ref(&r)
                && let Some(c) = self.prog.clauses.get_mut(me as usize)
            {
                c.excludes.push(target);
            }
        }
        // granted(…), once in, and amendments by later documents (amend.rs)
        self.check_granted();
        self.apply_changes(&items);
        self.check_qualifies();
        // 5. tests
        for item in &items {
            if let ast::Item::Test(t) = item {
                self.test(t);
            }
        }
    }

    fn declare_type(&mut self, name: &ast::Ident) -> bool {
        if let Some(prev) = self.type_spans.get(&name.name).copied() {
            self.err(
                Diagnostic::new(Code::Duplicate, format!("type `{}` is declared twice", name.name))
                    .at(name.span, "declared again here")
                    .also(prev, "first declared here")
                    .help("rename one of the declarations or remove the repeat"),
            );
            return false;
        }
        if builtin_type(&name.name).is_some() {
            self.err(
                Diagnostic::new(Code::Duplicate, format!("`{}` is a built-in type", name.name))
                    .at(name.span, "this name is taken")
                    .help("choose another name"),
            );
            return false;
        }
        self.type_spans.insert(name.name.clone(), name.span);
        true
    }

    fn declare_value(&mut self, name: &ast::Ident) -> bool {
        if let Some(prev) = self.value_spans.get(&name.name).copied() {
            self.err(
                Diagnostic::new(Code::Duplicate, format!("`{}` is declared twice", name.name))
                    .at(name.span, "declared again here")
                    .also(prev, "first declared here")
                    .help(
                        "facts, definitions, parameters and tables share one namespace: rename one of them",
                    ),
            );
            return false;
        }
        self.value_spans.insert(name.name.clone(), name.span);
        true
    }

    /// `signed` belongs to numbers (money, rates, counts) and series of them.
    fn check_signed(&mut self, signed: bool, ty: Type, span: Span) {
        if signed && !matches!(ty, Type::Num(_) | Type::Series(_)) {
            let t = self.prog.type_name(ty);
            self.err(
                Diagnostic::new(Code::ConstructMisuse, format!("`signed` is for numbers, and this is {t}"))
                    .at(span, "declared `signed`")
                    .help(
                        "remove `signed`: only money, rates and counts (or series of them) can be negative",
                    ),
            );
        }
    }

    fn type_expr(&mut self, t: &ast::TypeExpr, allow_list: bool) -> R<Type> {
        match t {
            ast::TypeExpr::Named(n) => self.named_type(n),
            ast::TypeExpr::Series(n) => match self.named_type(n)? {
                Type::Num(k) => Ok(Type::Series(k)),
                other => {
                    let tn = self.prog.type_name(other);
                    self.err(
                        Diagnostic::new(Code::ExpectedType, format!("a series holds numbers, not {tn}"))
                            .at(n.span, "not a numeric type")
                            .help("write `series money`, `series number`, `series rate` or `series integer`"),
                    );
                    Err(())
                }
            },
            ast::TypeExpr::Monthly(n) => self.monthly_type(n, allow_list),
            ast::TypeExpr::List(n) => {
                if !allow_list {
                    self.err(
                        Diagnostic::new(Code::ExpectedType, "a record field cannot hold a list")
                            .at(n.span, "lists only as facts")
                            .help("declare the list as a fact of its own"),
                    );
                    return Err(());
                }
                match self.types.get(&n.name) {
                    Some(TypeName::Record(r)) => Ok(Type::List(*r)),
                    _ => {
                        let cands: Vec<String> = self.prog.records.iter().map(|r| r.name.clone()).collect();
                        let mut d =
                            Diagnostic::new(Code::UnknownType, format!("unknown record type `{}`", n.name))
                                .at(n.span, "no record of this name");
                        d = d.help(
                            did_you_mean(&n.name, cands.iter().map(String::as_str))
                                .unwrap_or_else(|| "declare it with `record 名称 { … }`".into()),
                        );
                        self.err(d);
                        Err(())
                    }
                }
            }
        }
    }

    fn named_type(&mut self, n: &ast::Ident) -> R<Type> {
        if let Some(t) = builtin_type(&n.name) {
            return Ok(t);
        }
        match self.types.get(&n.name) {
            Some(TypeName::Enum(e)) => Ok(Type::Enum(*e)),
            Some(TypeName::Record(_)) => {
                self.err(
                    Diagnostic::new(
                        Code::ExpectedType,
                        format!("`{}` is a record; a fact holds a list of records", n.name),
                    )
                    .at(n.span, "a record type here")
                    .help(format!("write `list {}`", n.name)),
                );
                Err(())
            }
            None => {
                let mut cands: Vec<String> = BUILTIN_TYPES.iter().map(|s| (*s).to_string()).collect();
                cands.extend(self.types.keys().cloned());
                let help = did_you_mean(&n.name, cands.iter().map(String::as_str))
                    .unwrap_or_else(|| "types are money, rate, number, integer, boolean, date, year, text, or a declared enum".into());
                self.err(
                    Diagnostic::new(Code::UnknownType, format!("unknown type `{}`", n.name))
                        .at(n.span, "not a type")
                        .help(help),
                );
                Err(())
            }
        }
    }

    fn parameter(&mut self, p: &ast::ParamDecl) {
        let Ok(ty) = self.named_type(&p.ty) else { return };
        if !matches!(ty, Type::Num(_)) {
            self.err(
                Diagnostic::new(Code::ExpectedType, "a parameter holds money, a rate or a number")
                    .at(p.ty.span, "not numeric")
                    .help("declare it as `money`, `rate`, `number` or `integer`"),
            );
            return;
        }
        let mut versions = Vec::new();
        for v in &p.versions {
            let Ok(e) = self.expr(&v.value, TOP, Some(ty)) else { continue };
            match e.kind {
                ExprKind::Const(Const::Num(d)) if self.assignable(e.ty, ty) => versions.push(ParamVersion {
                    value: d,
                    from: v.from,
                    label: v.label.clone(),
                    span: v.span,
                }),
                _ => {
                    let want = self.prog.type_name(ty);
                    self.err(
                        Diagnostic::new(
                            Code::ExpectedType,
                            format!("a version of `{}` must be a {want} literal", p.name.name),
                        )
                        .at(v.value.span, "not a literal of the parameter's type")
                        .help(format!("write a {want} such as {}", example_of(ty))),
                    );
                }
            }
        }
        if let Some([a, b]) = versions.windows(2).find(|w| matches!(w, [a, b] if b.from < a.from)) {
            self.err(
                Diagnostic::new(
                    Code::ParameterVersions,
                    format!("the versions of `{}` are not listed in date order", p.name.name),
                )
                .at(b.span, format!("takes effect {}, before the version above", b.from))
                .also(a.span, format!("takes effect {}", a.from))
                .help("list versions from the earliest to the latest, as the amendments came"),
            );
        }
        versions.sort_by_key(|v| v.from);
        if self.declare_value(&p.name) {
            let id = idx(self.prog.params.len());
            self.values.insert(p.name.name.clone(), ValueName::Param(id));
            self.prog.params.push(ParamDef {
                name: p.name.name.clone(),
                label: p.label.clone(),
                ty,
                versions,
                span: p.name.span,
            });
        }
    }

    /// Lowers a definition on first use, reporting a cycle with its path.
    fn ensure_def(&mut self, id: DefId, use_span: Option<Span>) -> R<(Type, usize)> {
        match self.def_state.get(id as usize).copied() {
            Some(DefState::Done(t, depth)) => return Ok((t, depth)),
            Some(DefState::Failed) | None => return Err(()),
            Some(DefState::InProgress) => {
                let start = self.def_stack.iter().position(|d| *d == id).unwrap_or(0);
                let path: Vec<String> = self
                    .def_stack
                    .get(start..)
                    .unwrap_or(&[])
                    .iter()
                    .chain(std::iter::once(&id))
                    .filter_map(|d| self.prog.defs.get(*d as usize).map(|x| format!("`{}`", x.name)))
                    .collect();
                let name = self.prog.defs.get(id as usize).map(|d| d.name.clone()).unwrap_or_default();
                let def_span = self.prog.defs.get(id as usize).map(|d| d.span).unwrap_or_default();
                let mut d = Diagnostic::new(Code::DefinitionCycle, format!("`{name}` depends on itself: {}", path.join(" → ")))
                    .at(use_span.unwrap_or(def_span), "refers back here")
                    .help("a definition may use other definitions, but not itself through any chain; break the cycle");
                if use_span.is_some() {
                    d = d.also(def_span, "defined here");
                }
                self.err(d);
                if let Some(s) = self.def_state.get_mut(id as usize) {
                    *s = DefState::Failed;
                }
                return Err(());
            }
            Some(DefState::Todo) => {}
        }
        let Some(ast_def) = self.def_ast.get(id as usize).copied() else { return Err(()) };
        if let Some(s) = self.def_state.get_mut(id as usize) {
            *s = DefState::InProgress;
        }
        let scope = match &ast_def.record {
            None => Ok(TOP),
            Some(r) => match self.types.get(&r.name) {
                Some(TypeName::Record(rid)) => Ok(Scope { item: Some(*rid) }),
                _ => {
                    let records: Vec<&str> = self.prog.records.iter().map(|x| x.name.as_str()).collect();
                    let help = did_you_mean(&r.name, records.iter().copied())
                        .unwrap_or_else(|| format!("the records are {}", records.join(", ")));
                    self.err(
                        Diagnostic::new(Code::UnknownType, format!("`{}` is not a record", r.name))
                            .at(r.span, "not a declared record")
                            .help(format!(
                                "`define 名(记录)` is read on one item of a list of that record; {help}"
                            )),
                    );
                    Err(())
                }
            },
        };
        let Ok(scope) = scope else {
            if let Some(s) = self.def_state.get_mut(id as usize) {
                *s = DefState::Failed;
            }
            return Err(());
        };
        if let Some(d) = self.prog.defs.get_mut(id as usize) {
            d.record = scope.item;
        }
        let declared = match &ast_def.ty {
            Some(t) => match self.named_type(t) {
                Ok(t) => Some(t),
                Err(()) => {
                    if let Some(s) = self.def_state.get_mut(id as usize) {
                        *s = DefState::Failed;
                    }
                    return Err(());
                }
            },
            None => None,
        };
        self.def_stack.push(id);
        let mut result = self.expr(&ast_def.expr, scope, declared);
        self.def_stack.pop();
        if let (Some(want), Ok(e)) = (declared, &result) {
            let what = format!("`{}` is declared {}", ast_def.name.name, self.prog.type_name(want));
            if self.expect_type(e, want, Code::ExpectedType, &what).is_err() {
                result = Err(());
            }
        }
        let depth = result.as_ref().map(|e| def_depth(e, &self.prog, &self.def_state)).unwrap_or(0) + 1;
        let cost = result.as_ref().map(|e| expanded(e, &self.def_cost)).unwrap_or_default();
        let state = match result {
            Ok(e) if depth > MAX_DEF_CHAIN => {
                self.err(
                    Diagnostic::new(
                        Code::TooDeep,
                        format!(
                            "`{}` sits on a chain of more than {MAX_DEF_CHAIN} definitions",
                            ast_def.name.name
                        ),
                    )
                    .at(ast_def.name.span, "chain too long")
                    .help("shorten the chain: let this definition use facts directly"),
                );
                drop(e);
                DefState::Failed
            }
            Ok(e) if cost.depth > MAX_EVAL_DEPTH || cost.size > MAX_EXPANDED_SIZE => {
                let message = if cost.depth > MAX_EVAL_DEPTH {
                    format!(
                        "`{}` nests {} levels deep with the definitions it uses counted in place (at most {MAX_EVAL_DEPTH})",
                        ast_def.name.name, cost.depth
                    )
                } else {
                    format!(
                        "`{}` stands for more than {MAX_EXPANDED_SIZE} operations with the definitions it uses counted each time they are used",
                        ast_def.name.name
                    )
                };
                self.err(
                    Diagnostic::new(Code::TooDeep, message)
                        .at(ast_def.name.span, "too deep with its definitions")
                        .help("let the definitions it uses take facts directly, or use each one fewer times"),
                );
                drop(e);
                DefState::Failed
            }
            Ok(e) => {
                if let Some(c) = self.def_cost.get_mut(id as usize) {
                    *c = cost;
                }
                let t = e.ty;
                if let Some(d) = self.prog.defs.get_mut(id as usize) {
                    d.expr = e;
                }
                DefState::Done(t, depth)
            }
            Err(()) => DefState::Failed,
        };
        if let Some(s) = self.def_state.get_mut(id as usize) {
            // a cycle found below may already have marked it failed
            if *s == DefState::InProgress {
                *s = state;
            }
        }
        match self.def_state.get(id as usize) {
            Some(DefState::Done(t, d)) => Ok((*t, *d)),
            _ => Err(()),
        }
    }

    fn text(&self, span: Span) -> String {
        self.sources.slice(span).split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn condition(&mut self, e: &ast::Expr) -> R<Condition> {
        let x = self.expr(e, TOP, Some(Type::Bool))?;
        self.expect_type(&x, Type::Bool, Code::NotBoolean, "a condition must be true or false")?;
        Ok(Condition { text: self.text(e.span).into(), expr: x })
    }

    fn expect_type(&mut self, e: &Expr, want: Type, code: Code, what: &str) -> R<()> {
        if self.assignable(e.ty, want) {
            return Ok(());
        }
        let got = self.prog.type_name(e.ty);
        let wname = self.prog.type_name(want);
        self.err(
            Diagnostic::new(code, format!("{what}, but this is {got}"))
                .at(e.span, format!("this is {got}"))
                .help(format!("write an expression of type {wname} here, such as {}", example_of(want))),
        );
        Err(())
    }

    fn assignable(&self, got: Type, want: Type) -> bool {
        got == want
            || matches!((got, want), (Type::Num(Num::Integer), Type::Num(Num::Number)))
            || matches!(
                (got, want),
                (Type::Num(Num::Integer), Type::Year) | (Type::Year, Type::Num(Num::Integer))
            )
    }

    fn policy(&mut self, p: &ast::PolicyDecl) {
        let pid = idx(self.prog.policies.len());
        let mut def = PolicyDef {
            key: p.key.name.clone(),
            title: p.title.clone(),
            number: None,
            issuer: None,
            issued: None,
            published: None,
            source: None,
            in_force: None,
            applies: None,
            rounding: ast::Rounding::Fen,
            clauses: Vec::new(),
            changes: Vec::new(),
            span: p.key.span,
        };
        for m in &p.meta {
            match m {
                ast::Meta::Number(s, _) => def.number = Some(s.clone()),
                ast::Meta::Issuer(s, _) => def.issuer = Some(s.clone()),
                ast::Meta::Issued(d, _) => def.issued = Some(*d),
                ast::Meta::Published(d, _) => def.published = Some(*d),
                ast::Meta::Source(s, _) => def.source = Some(s.clone()),
                ast::Meta::InForce(w) => {
                    def.in_force = Some(Window { start: w.start, end: w.end, span: w.span })
                }
                ast::Meta::Applies(e) => def.applies = self.condition(e).ok(),
                ast::Meta::Rounding(r, _) => def.rounding = *r,
            }
        }
        if let Some(w) = &def.in_force
            && let (Some(s), Some(e)) = (w.start, w.end)
            && e < s
        {
            self.err(
                Diagnostic::new(
                    Code::BadLiteral,
                    format!("the document `{}` ends ({e}) before it takes effect ({s})", p.key.name),
                )
                .at(w.span, "empty window")
                .help("swap the dates, or check the dates the text gives (施行日期, 有效期)"),
            );
        }
        // a document takes effect from its own date: an explicit `in force`, else `issued`
        if def.in_force.is_none()
            && let Some(d) = def.issued
        {
            let span = p
                .meta
                .iter()
                .find_map(|m| match m {
                    ast::Meta::Issued(_, s) => Some(*s),
                    _ => None,
                })
                .unwrap_or(p.key.span);
            def.in_force = Some(Window { start: Some(d), end: None, span });
        }
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for c in &p.clauses {
            if let Some(prev) = seen.insert(c.id.as_str(), c.id_span) {
                self.err(
                    Diagnostic::new(Code::Duplicate, format!("clause `{}.{}` is declared twice", p.key.name, c.id))
                        .at(c.id_span, "declared again here")
                        .also(prev, "first declared here")
                        .help("each article id appears once per document; use a letter suffix (`14a`, `14b`) for parts of one article"),
                );
                continue;
            }
            if let Some(cd) = self.clause(c, pid, &p.key.name) {
                let cid = idx(self.prog.clauses.len());
                self.prog.clause_index.insert((p.key.name.clone(), c.id.clone()), cid);
                def.clauses.push(cid);
                self.prog.clauses.push(cd);
            } else {
                self.failed_clauses.insert((p.key.name.clone(), c.id.clone()));
            }
        }
        self.prog.policies.push(def);
    }

    fn clause(&mut self, c: &ast::ClauseDecl, policy: PolicyId, key: &str) -> Option<ClauseDef> {
        let mut cd = ClauseDef {
            policy,
            ledger_names: (key.into(), c.id.as_str().into()),
            kind: ast::ClauseKind::Benefit,
            id: c.id.clone(),
            title: c.title.clone(),
            quotes: Vec::new(),
            responsible: Vec::new(),
            conditions: Vec::new(),
            window: None,
            window_on: None,
            dated: None,
            amount: Amount::Discretionary { base: None },
            caps: Vec::new(),
            floor: None,
            once: None,
            at_most: None,
            excludes: Vec::new(),
            largest_in: None,
            once_in: None,
            versions: Vec::new(),
            changes: Vec::new(),
            unquoted: Vec::new(),
            span: c.id_span,
        };
        let before = self.diags.len();
        let mut once_span = None;
        let mut has_amount = false;
        for part in &c.parts {
            match part {
                ast::ClausePart::Quote(q, s) => cd.quotes.push(Quote { text: q.clone(), span: *s }),
                ast::ClausePart::Responsible(ids) => {
                    cd.responsible.extend(ids.iter().map(|i| i.name.clone()))
                }
                ast::ClausePart::When(e) => {
                    if let Ok(cond) = self.condition(e) {
                        cd.conditions.push(cond);
                    }
                }
                ast::ClausePart::Valid(w, on) => {
                    if let (Some(s), Some(e)) = (w.start, w.end)
                        && e < s
                    {
                        self.err(
                            Diagnostic::new(
                                Code::BadLiteral,
                                format!("the window ends ({e}) before it starts ({s})"),
                            )
                            .at(w.span, "empty window")
                            .help("swap the dates, or check the year the text gives"),
                        );
                    }
                    cd.window = Some(Window { start: w.start, end: w.end, span: w.span });
                    if let Some(on) = on
                        && let Ok(x) = self.expr(on, TOP, Some(Type::Date))
                        && self
                            .expect_type(&x, Type::Date, Code::ExpectedType, "a window tests a date")
                            .is_ok()
                    {
                        cd.window_on = Some(x);
                    }
                }
                ast::ClausePart::Dated(e) => {
                    if let Ok(x) = self.expr(e, TOP, Some(Type::Date))
                        && self
                            .expect_type(&x, Type::Date, Code::ExpectedType, "`dated` needs a date")
                            .is_ok()
                    {
                        cd.dated = Some(x);
                    }
                }
                ast::ClausePart::Amount(a) => {
                    if has_amount {
                        self.err(
                            Diagnostic::new(Code::ConstructMisuse, "a clause has one `amount`")
                                .at(c.id_span, "in this clause")
                                .help("split the article into two clauses (`12a`, `12b`), or combine the amounts in one expression"),
                        );
                    }
                    has_amount = true;
                    if let Ok(a) = self.amount(a) {
                        cd.amount = a;
                    }
                }
                ast::ClausePart::Cap(e, scope, span) => {
                    if let Ok(x) = self.money(e, "a cap is an amount of money") {
                        cd.caps.push(Cap { expr: x, scope: *scope, span: *span });
                    }
                }
                ast::ClausePart::Floor(e, _) => {
                    if let Ok(x) = self.money(e, "a floor is an amount of money") {
                        cd.floor = Some(x);
                    }
                }
                ast::ClausePart::Once(scope, span) => {
                    cd.once = Some(*scope);
                    once_span = Some(*span);
                }
                ast::ClausePart::AtMost(n, from, span) => {
                    let from = match from {
                        Some(e) => match self.expr(e, TOP, Some(Type::Date)) {
                            Ok(x)
                                if self
                                    .expect_type(
                                        &x,
                                        Type::Date,
                                        Code::ExpectedType,
                                        "`at most N years from` counts from a date",
                                    )
                                    .is_ok() =>
                            {
                                Some(x)
                            }
                            _ => None,
                        },
                        None => None,
                    };
                    cd.at_most = Some(AtMost { years: *n, from, span: *span });
                }
                ast::ClausePart::Kind(k, _) => cd.kind = *k,
                ast::ClausePart::Excludes(refs) => {
                    let me = idx(self.prog.clauses.len());
                    self.pending_excludes.extend(refs.iter().map(|r| (me, r.clone())));
                }
                ast::ClausePart::LargestIn(g, _) => cd.largest_in = Some(g.clone()),
                ast::ClausePart::OnceIn(g, _) => cd.once_in = Some(g.clone()),
                ast::ClausePart::Unquoted(lit, reason, span) => {
                    let value = match lit {
                        crate::value::Literal::Money(d)
                        | crate::value::Literal::Rate(d)
                        | crate::value::Literal::Number(d) => Some(*d),
                        _ => None,
                    };
                    if let Some(value) = value {
                        cd.unquoted.push(Unquoted { value, reason: reason.clone(), span: *span });
                    }
                }
                ast::ClausePart::Provides(what, span) => {
                    if has_amount {
                        self.err(
                            Diagnostic::new(
                                Code::ConstructMisuse,
                                "a clause gives either an `amount` or what it `provides`, not both",
                            )
                            .at(*span, "second benefit")
                            .help("split the article into two clauses (`12a`, `12b`)"),
                        );
                    }
                    has_amount = true;
                    cd.amount = Amount::Provides { what: what.clone() };
                }
            }
        }
        if let (Some(scope), Some(span)) = (cd.once, once_span) {
            let ok = match scope {
                OnceScope::Clause | OnceScope::PerYear => true,
                OnceScope::PerTier => matches!(cd.amount, Amount::Tiers { .. }),
                OnceScope::PerCategory => matches!(cd.amount, Amount::Category { .. }),
                OnceScope::PerItem => matches!(cd.amount, Amount::Each { .. }),
            };
            if !ok {
                let (words, what) = match scope {
                    OnceScope::PerTier => ("per tier", "tiers"),
                    OnceScope::PerItem => ("per item", "persons or items (`each … key … =>`)"),
                    _ => ("per category", "categories (`by …`)"),
                };
                self.err(
                    Diagnostic::new(
                        Code::ConstructMisuse,
                        format!("`once {words}` needs an amount paid by {what}"),
                    )
                    .at(span, "nothing to count once by")
                    .help("write plain `once`, or give the clause an amount of that form"),
                );
            }
        }
        if !matches!(cd.amount, Amount::Each { .. })
            && let Some(cap) =
                cd.caps.iter().find(|k| matches!(k.scope, CapScope::PerItem | CapScope::PerItemTotal))
        {
            self.err(
                Diagnostic::new(Code::ConstructMisuse, "`cap … per item` needs an amount paid per person or item")
                    .at(cap.span, "no items to cap")
                    .help("write the amount as `each 清单 key 字段 => 金额`, or use `cap X`, `cap X per year` or `cap X total`"),
            );
        }
        if let Amount::Credit { .. } = cd.amount
            && (!cd.caps.is_empty() || cd.once.is_some())
        {
            self.err(
                    Diagnostic::new(Code::ConstructMisuse, "a carried credit cannot also have caps or `once`")
                        .at(c.id_span, "in this clause")
                        .help("a credit is limited by what it earns and by its expiry; state other limits in the earned amount"),
                );
        }
        (self.diags.len() == before).then_some(cd)
    }

    fn money(&mut self, e: &ast::Expr, what: &str) -> R<Expr> {
        let x = self.expr(e, TOP, Some(Type::MONEY))?;
        self.expect_type(&x, Type::MONEY, Code::AmountType, what)?;
        Ok(x)
    }

    fn amount(&mut self, a: &ast::Amount) -> R<Amount> {
        Ok(match a {
            ast::Amount::Discretionary { base, .. } => Amount::Discretionary {
                base: match base {
                    Some(b) => Some(self.expr(b, TOP, None)?),
                    None => None,
                },
            },
            ast::Amount::Expr(e) => Amount::Expr(self.money(e, "an amount is money")?),
            ast::Amount::Tiers { first_time, subject, pay, tiers, .. } => {
                let first = if *first_time {
                    match self.series_name(subject, TOP) {
                        Some((r, _)) => Some(r),
                        None => {
                            self.err(
                                Diagnostic::new(Code::NotSeries, "`first time` reads a yearly series")
                                    .at(subject.span, "not a series fact")
                                    .help("name a fact declared as `series money` (e.g. `营业收入`), without `[period]`"),
                            );
                            return Err(());
                        }
                    }
                } else {
                    None
                };
                let subj = self.expr(subject, TOP, None)?;
                if !matches!(subj.ty, Type::Num(_)) {
                    self.expect_type(&subj, Type::MONEY, Code::ExpectedType, "tiers compare a number")?;
                }
                let mut out = Vec::new();
                let mut ok = true;
                for t in tiers {
                    let th = self.expr(&t.threshold, TOP, Some(subj.ty));
                    let am = self.money(&t.amount, "a tier pays money");
                    match (th, am) {
                        (Ok(th), Ok(am)) => {
                            if !self.comparable(subj.ty, th.ty) {
                                self.compare_error(&subj, &th, t.span);
                                ok = false;
                                continue;
                            }
                            let key = match (&th.kind, subj.ty) {
                                (ExprKind::Const(Const::Num(d)), Type::Num(Num::Money)) => fmt_money(*d),
                                _ => self.text(t.threshold.span),
                            };
                            out.push(TierDef {
                                op: t.op,
                                threshold: th,
                                amount: am,
                                key: key.into(),
                                span: t.span,
                            });
                        }
                        _ => ok = false,
                    }
                }
                if !ok {
                    return Err(());
                }
                Amount::Tiers { first_time: first, subject: subj, pay: *pay, tiers: out }
            }
            ast::Amount::Brackets { subject, brackets, .. } => {
                let subj = self.money(subject, "brackets slice an amount of money")?;
                let mut out = Vec::new();
                let mut ok = true;
                for b in brackets {
                    let upper = match &b.upper {
                        Some(u) => match self.money(u, "a bracket's bound is money") {
                            Ok(x) => Some(x),
                            Err(()) => {
                                ok = false;
                                continue;
                            }
                        },
                        None => None,
                    };
                    match self.expr(&b.rate, TOP, Some(Type::RATE)) {
                        Ok(r)
                            if self
                                .expect_type(
                                    &r,
                                    Type::RATE,
                                    Code::ExpectedType,
                                    "a bracket pays a rate of its slice",
                                )
                                .is_ok() =>
                        {
                            out.push(BracketDef { upper, rate: r, span: b.span });
                        }
                        _ => ok = false,
                    }
                }
                if !ok {
                    return Err(());
                }
                Amount::Brackets { subject: subj, brackets: out }
            }
            ast::Amount::Category { subject, each, arms, .. } => {
                let (each, scope) = match each {
                    Some(sel) => {
                        let s = self.selection(sel)?;
                        let scope = Scope { item: Some(s.record) };
                        (Some(Box::new(s)), scope)
                    }
                    None => (None, TOP),
                };
                let subj = self.expr(subject, scope, None)?;
                let Type::Enum(eid) = subj.ty else {
                    let got = self.prog.type_name(subj.ty);
                    self.err(
                        Diagnostic::new(
                            Code::ExpectedType,
                            format!("`by` chooses among the values of an enumeration, but this is {got}"),
                        )
                        .at(subj.span, "not an enumeration")
                        .help("name a fact whose type is an `enum`"),
                    );
                    return Err(());
                };
                let variants =
                    self.prog.enums.get(eid as usize).map(|e| e.variants.clone()).unwrap_or_default();
                let ename = self.prog.type_name(Type::Enum(eid));
                let mut out = Vec::new();
                let mut ok = true;
                for (name, amount) in arms {
                    let am = self.money(amount, "a category pays money");
                    match variants.iter().position(|v| *v == name.name) {
                        Some(v) => {
                            if let Ok(am) = am {
                                out.push(CategoryArm {
                                    variant: idx(v),
                                    name: name.name.as_str().into(),
                                    amount: am,
                                });
                            } else {
                                ok = false;
                            }
                        }
                        None => {
                            let help = did_you_mean(&name.name, variants.iter().map(String::as_str))
                                .unwrap_or_else(|| {
                                    format!("the values of `{ename}` are {}", variants.join(", "))
                                });
                            self.err(
                                Diagnostic::new(
                                    Code::UnknownVariant,
                                    format!("`{}` is not a value of `{ename}`", name.name),
                                )
                                .at(name.span, "unknown value")
                                .help(help),
                            );
                            ok = false;
                        }
                    }
                }
                if !ok {
                    return Err(());
                }
                Amount::Category { subject: subj, each, arms: out }
            }
            ast::Amount::Credit { earned, capacity, years, .. } => Amount::Credit {
                earned: self.money(earned, "a credit earns money")?,
                capacity: self.money(capacity, "a credit is used against an amount of money")?,
                years: *years,
            },
            ast::Amount::Each { list, key, amount, .. } => {
                let sel = self.selection(list)?;
                let Some((fid, f)) = self.field(sel.record, &key.name) else {
                    let fields: Vec<String> = self
                        .prog
                        .records
                        .get(sel.record as usize)
                        .map(|r| r.fields.iter().map(|f| f.name.clone()).collect())
                        .unwrap_or_default();
                    let help = did_you_mean(&key.name, fields.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("the fields are {}", fields.join(", ")));
                    self.err(
                        Diagnostic::new(Code::UnknownField, format!("unknown field `{}`", key.name))
                            .at(key.span, "not a field of the item")
                            .help(help),
                    );
                    return Err(());
                };
                if matches!(f.ty, Type::Series(_) | Type::List(_) | Type::Record(_)) {
                    let t = self.prog.type_name(f.ty);
                    self.err(
                        Diagnostic::new(Code::ArgumentType, format!("an item cannot be keyed by {t}"))
                            .at(key.span, "not one value per item")
                            .help("key each person or item by a field that names it, e.g. an id number (`证件号码: text`)"),
                    );
                    return Err(());
                }
                let item = Scope { item: Some(sel.record) };
                let x = match amount {
                    Some(amount) => {
                        let x = self.expr(amount, item, Some(Type::MONEY))?;
                        self.expect_type(&x, Type::MONEY, Code::AmountType, "the amount per item is money")?;
                        Some(x)
                    }
                    None => None,
                };
                Amount::Each { sel: Box::new(sel), key: fid, amount: x }
            }
        })
    }

    fn comparable(&self, a: Type, b: Type) -> bool {
        use Type as T;
        match (a, b) {
            (T::Num(Num::Money), T::Num(Num::Money)) | (T::Num(Num::Rate), T::Num(Num::Rate)) => true,
            (T::Num(Num::Number | Num::Integer) | T::Year, T::Num(Num::Number | Num::Integer) | T::Year) => {
                true
            }
            (T::Date, T::Date) | (T::Bool, T::Bool) | (T::Text, T::Text) => true,
            (T::Enum(x), T::Enum(y)) => x == y,
            _ => false,
        }
    }

    fn compare_error(&mut self, a: &Expr, b: &Expr, span: Span) {
        let (ta, tb) = (self.prog.type_name(a.ty), self.prog.type_name(b.ty));
        self.err(
            Diagnostic::new(Code::CompareType, format!("cannot compare {ta} with {tb}"))
                .at(span, "these values have different kinds")
                .also(a.span, format!("this is {ta}"))
                .also(b.span, format!("this is {tb}"))
                .help("compare money with money, rates with rates, dates with dates; convert with `year(…)` or a rate × money product"),
        );
    }

    /// When `e` names a yearly series (a fact, or a field of the current item), that series.
    fn series_name(&self, e: &ast::Expr, scope: Scope) -> Option<(SeriesRef, Num)> {
        let ast::ExprKind::Name(n) = &e.kind else { return None };
        if let Some(r) = scope.item
            && let Some((fid, f)) = self.field(r, n)
        {
            return match f.ty {
                Type::Series(k) => Some((SeriesRef::Field(fid), k)),
                _ => None,
            };
        }
        match self.values.get(n) {
            Some(ValueName::Fact(f)) => match self.prog.facts.get(*f as usize).map(|f| (f.ty, f.monthly)) {
                Some((Type::Series(k), false)) => Some((SeriesRef::Fact(*f), k)),
                _ => None,
            },
            _ => None,
        }
    }

    fn field(&self, r: RecordId, name: &str) -> Option<(FieldId, &FieldDef)> {
        self.prog
            .records
            .get(r as usize)?
            .fields
            .iter()
            .enumerate()
            .find(|(_, f)| f.name == name)
            .map(|(i, f)| (idx(i), f))
    }

    fn mk(kind: ExprKind, ty: Type, span: Span) -> Expr {
        Expr { kind, ty, span }
    }

    fn is_value_name(&self, e: &ast::Expr, scope: Scope) -> bool {
        match &e.kind {
            ast::ExprKind::Name(n) => {
                self.values.contains_key(n) || scope.item.is_some_and(|r| self.field(r, n).is_some())
            }
            _ => true,
        }
    }

    fn expr(&mut self, e: &ast::Expr, scope: Scope, expect: Option<Type>) -> R<Expr> {
        let span = e.span;
        match &e.kind {
            ast::ExprKind::Lit(l) => Ok(match l {
                Literal::Money(d) => Self::mk(ExprKind::Const(Const::Num(*d)), Type::MONEY, span),
                Literal::Rate(d) => Self::mk(ExprKind::Const(Const::Num(*d)), Type::RATE, span),
                Literal::Number(d) => {
                    let t = if d.fract().is_zero() { Type::INTEGER } else { Type::NUMBER };
                    Self::mk(ExprKind::Const(Const::Num(*d)), t, span)
                }
                Literal::Date(d) => Self::mk(ExprKind::Const(Const::Date(*d)), Type::Date, span),
            }),
            ast::ExprKind::Bool(b) => Ok(Self::mk(ExprKind::Const(Const::Bool(*b)), Type::Bool, span)),
            ast::ExprKind::Period => Ok(Self::mk(ExprKind::Period, Type::Year, span)),
            ast::ExprKind::AsOf => Ok(Self::mk(ExprKind::AsOf, Type::Date, span)),
            ast::ExprKind::Name(n) => self.name(n, span, scope, expect),
            ast::ExprKind::Not(x) => {
                let x = self.expr(x, scope, Some(Type::Bool))?;
                self.expect_type(&x, Type::Bool, Code::NotBoolean, "`not` needs a condition")?;
                Ok(Self::mk(ExprKind::Not(Box::new(x)), Type::Bool, span))
            }
            ast::ExprKind::Neg(x) => {
                let x = self.expr(x, scope, expect)?;
                if !matches!(x.ty, Type::Num(_)) {
                    let t = self.prog.type_name(x.ty);
                    self.err(
                        Diagnostic::new(Code::ArithmeticType, format!("cannot negate {t}"))
                            .at(x.span, format!("this is {t}"))
                            .help("only numbers and money can be negative"),
                    );
                    return Err(());
                }
                let ty = x.ty;
                Ok(Self::mk(ExprKind::Neg(Box::new(x)), ty, span))
            }
            ast::ExprKind::Binary(op, a, b) => self.binary(*op, a, b, span, scope),
            ast::ExprKind::Index(base, ix) => {
                if self.is_monthly(base, scope) {
                    return self.monthly_index(base, ix, span, scope);
                }
                let Some((r, k)) = self.series_name(base, scope) else {
                    let _ = self.expr(base, scope, None);
                    self.err(
                        Diagnostic::new(Code::NotSeries, "only a yearly series can be indexed by a year")
                            .at(base.span, "not a series")
                            .help("index a fact declared as `series …`, e.g. `营业收入[period - 1]`"),
                    );
                    return Err(());
                };
                let y = self.expr(ix, scope, Some(Type::Year))?;
                self.expect_type(&y, Type::Year, Code::ExpectedType, "a series is indexed by a year")?;
                Ok(Self::mk(ExprKind::SeriesAt(r, Box::new(y)), Type::Num(k), span))
            }
            ast::ExprKind::Field(_, f) => {
                self.err(
                    Diagnostic::new(Code::ConstructMisuse, format!("`.{}`: fields are read inside a list function", f.name))
                        .at(f.span, "field access here")
                        .help("write e.g. `sum(贷款 where 类型 == 知识产权质押, 利息)`: inside, the item's fields are plain names"),
                );
                Err(())
            }
            ast::ExprKind::Set(_) => {
                self.err(
                    Diagnostic::new(Code::ConstructMisuse, "a set of values is only used after `in`")
                        .at(span, "set here")
                        .help("write `行业 in {电子信息制造业, 装备制造业}`"),
                );
                Err(())
            }
            ast::ExprKind::Call(name, args) => self.call(name, args, span, scope),
            ast::ExprKind::Granted(r, years) => {
                self.pending_granted.push(r.clone());
                let k = ExprKind::Granted(r.policy.as_str().into(), r.clause.as_str().into(), *years);
                Ok(Self::mk(k, Type::Bool, span))
            }
            ast::ExprKind::Qualifies(r) => {
                // the clause may be in a document lowered later: checked with granted(…)
                self.pending_qualifies.push(r.clone());
                let k = ExprKind::Qualifies(r.policy.as_str().into(), r.clause.as_str().into());
                Ok(Self::mk(k, Type::Bool, span))
            }
            ast::ExprKind::If(c, a, b) => {
                let c = self.expr(c, scope, Some(Type::Bool));
                let a = self.expr(a, scope, expect);
                let b = self.expr(b, scope, expect);
                let (c, a, b) = (c?, a?, b?);
                self.expect_type(&c, Type::Bool, Code::NotBoolean, "`if` needs a condition")?;
                let ty = match (a.ty, b.ty) {
                    (x, y) if x == y => x,
                    (Type::Num(Num::Integer | Num::Number), Type::Num(Num::Integer | Num::Number)) => {
                        Type::NUMBER
                    }
                    (x, y) => {
                        let (tx, ty) = (self.prog.type_name(x), self.prog.type_name(y));
                        self.err(
                            Diagnostic::new(
                                Code::ArithmeticType,
                                format!("the branches of `if` differ: {tx} and {ty}"),
                            )
                            .at(span, "branches of different kinds")
                            .also(a.span, format!("this is {tx}"))
                            .also(b.span, format!("this is {ty}"))
                            .help("give both branches the same kind, e.g. `else 0元` for money"),
                        );
                        return Err(());
                    }
                };
                Ok(Self::mk(ExprKind::If(Box::new(c), Box::new(a), Box::new(b)), ty, span))
            }
        }
    }

    fn name(&mut self, n: &str, span: Span, scope: Scope, expect: Option<Type>) -> R<Expr> {
        if let Some(r) = scope.item
            && let Some((fid, f)) = self.field(r, n)
        {
            let ty = f.ty;
            return Ok(match ty {
                Type::Series(k) => Self::mk(
                    ExprKind::SeriesAt(
                        SeriesRef::Field(fid),
                        Box::new(Self::mk(ExprKind::Period, Type::Year, span)),
                    ),
                    Type::Num(k),
                    span,
                ),
                _ => Self::mk(ExprKind::Field(fid), ty, span),
            });
        }
        if let Some(Type::Enum(eid)) = expect
            && let Some(v) =
                self.prog.enums.get(eid as usize).and_then(|e| e.variants.iter().position(|v| v == n))
            && !self.values.contains_key(n)
        {
            return Ok(Self::mk(ExprKind::Const(Const::Enum(eid, idx(v))), Type::Enum(eid), span));
        }
        if let Some(e) = self.time_name(n, span) {
            return Ok(e);
        }
        if n == "never" && !self.values.contains_key(n) {
            return Ok(Self::mk(ExprKind::Const(Const::Date(Date::NEVER)), Type::Date, span));
        }
        match self.values.get(n).copied() {
            Some(ValueName::Fact(f)) => {
                if let Some(r) = self.monthly_bare(f, span) {
                    return r;
                }
                let ty = self.prog.facts.get(f as usize).map_or(Type::Bool, |x| x.ty);
                match ty {
                    Type::Series(k) => Ok(Self::mk(
                        ExprKind::SeriesAt(
                            SeriesRef::Fact(f),
                            Box::new(Self::mk(ExprKind::Period, Type::Year, span)),
                        ),
                        Type::Num(k),
                        span,
                    )),
                    Type::List(_) => {
                        self.err(
                            Diagnostic::new(
                                Code::ConstructMisuse,
                                format!("`{n}` is a list; use it through a list function"),
                            )
                            .at(span, "a list here")
                            .help(format!("write `count({n})`, `any({n} where …)` or `sum({n}, 字段)`")),
                        );
                        Err(())
                    }
                    _ => Ok(Self::mk(ExprKind::Fact(f), ty, span)),
                }
            }
            Some(ValueName::Def(d)) => {
                let (ty, _) = self.ensure_def(d, Some(span))?;
                let def = self.prog.defs.get(d as usize);
                if let Some(r) = def.and_then(|x| x.record)
                    && scope.item != Some(r)
                {
                    let rname = self.prog.records.get(r as usize).map_or("", |x| x.name.as_str());
                    let lists: Vec<&str> = self
                        .prog
                        .facts
                        .iter()
                        .filter(|f| f.ty == Type::List(r))
                        .map(|f| f.name.as_str())
                        .collect();
                    let example = lists.first().copied().unwrap_or("清单");
                    self.err(
                        Diagnostic::new(Code::ConstructMisuse, format!("`{n}` is read on one item of a list of `{rname}`"))
                            .at(span, "used outside a list function over such a list")
                            .help(format!("use it inside a list function, e.g. `sum({example} where {n}, …)` or `any({example}, {n})`")),
                    );
                    return Err(());
                }
                Ok(Self::mk(ExprKind::Def(d), ty, span))
            }
            Some(ValueName::Param(p)) => {
                let ty = self.prog.params.get(p as usize).map_or(Type::NUMBER, |x| x.ty);
                Ok(Self::mk(ExprKind::Param(p), ty, span))
            }
            Some(ValueName::Table(t)) => self.table_bare(t, span),
            None => {
                if let Some(Type::Enum(eid)) = expect {
                    let en = self.prog.enums.get(eid as usize);
                    let vars = en.map(|e| e.variants.clone()).unwrap_or_default();
                    let ename = en.map(|e| e.name.clone()).unwrap_or_default();
                    let help = did_you_mean(n, vars.iter().map(String::as_str))
                        .unwrap_or_else(|| format!("the values of `{ename}` are {}", vars.join(", ")));
                    self.err(
                        Diagnostic::new(Code::UnknownVariant, format!("`{n}` is not a value of `{ename}`"))
                            .at(span, "unknown value")
                            .help(help),
                    );
                    return Err(());
                }
                let record = scope.item.and_then(|r| self.prog.records.get(r as usize));
                if let Some(r) = record {
                    // inside a list function a bare name is first of all a field of the item
                    let fields: Vec<&str> = r.fields.iter().map(|f| f.name.as_str()).collect();
                    let help = did_you_mean(n, fields.iter().copied())
                        .unwrap_or_else(|| format!("the fields of `{}` are {}", r.name, fields.join(", ")));
                    self.err(
                        Diagnostic::new(Code::UnknownField, format!("unknown field `{n}`"))
                            .at(span, "not a field of the item")
                            .help(help),
                    );
                    return Err(());
                }
                let cands: Vec<&str> = self.values.keys().map(String::as_str).collect();
                let help = did_you_mean(n, cands).unwrap_or_else(|| {
                    "declare it as a fact (`fact 名称: money`), a definition (`define 名称 = …`) or a parameter".to_string()
                });
                self.err(
                    Diagnostic::new(Code::UnknownName, format!("unknown name `{n}`"))
                        .at(span, "not declared")
                        .help(help),
                );
                Err(())
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &ast::Expr, b: &ast::Expr, span: Span, scope: Scope) -> R<Expr> {
        match op {
            BinOp::And | BinOp::Or => {
                let x = self.expr(a, scope, Some(Type::Bool));
                let y = self.expr(b, scope, Some(Type::Bool));
                let (x, y) = (x?, y?);
                let word = if op == BinOp::And { "and" } else { "or" };
                let r1 =
                    self.expect_type(&x, Type::Bool, Code::NotBoolean, &format!("`{word}` joins conditions"));
                let r2 =
                    self.expect_type(&y, Type::Bool, Code::NotBoolean, &format!("`{word}` joins conditions"));
                r1?;
                r2?;
                let kind = if op == BinOp::And {
                    ExprKind::And(Box::new(x), Box::new(y))
                } else {
                    ExprKind::Or(Box::new(x), Box::new(y))
                };
                Ok(Self::mk(kind, Type::Bool, span))
            }
            BinOp::In => {
                let x = self.expr(a, scope, None)?;
                let ast::ExprKind::Set(items) = &b.kind else {
                    self.err(
                        Diagnostic::new(Code::ConstructMisuse, "`in` needs a set of values")
                            .at(b.span, "not a set")
                            .help("write `行业 in {电子信息制造业, 装备制造业}`"),
                    );
                    return Err(());
                };
                let mut consts = Vec::new();
                let mut ok = true;
                for it in items {
                    match self.expr(it, scope, Some(x.ty)) {
                        Ok(Expr { kind: ExprKind::Const(c), ty, .. }) if self.comparable(x.ty, ty) => {
                            consts.push(c)
                        }
                        Ok(other) => {
                            self.err(
                                Diagnostic::new(
                                    Code::CompareType,
                                    "a set after `in` holds constant values of the same kind",
                                )
                                .at(other.span, "not a constant of that kind")
                                .help("list enumeration values or literals"),
                            );
                            ok = false;
                        }
                        Err(()) => ok = false,
                    }
                }
                if !ok {
                    return Err(());
                }
                Ok(Self::mk(ExprKind::In(Box::new(x), consts), Type::Bool, span))
            }
            BinOp::Cmp(c) => {
                let (x, y) = if !self.is_value_name(a, scope) && self.is_value_name(b, scope) {
                    let y = self.expr(b, scope, None)?;
                    let x = self.expr(a, scope, Some(y.ty))?;
                    (x, y)
                } else {
                    let x = self.expr(a, scope, None)?;
                    let y = self.expr(b, scope, Some(x.ty))?;
                    (x, y)
                };
                if !self.comparable(x.ty, y.ty) {
                    self.compare_error(&x, &y, span);
                    return Err(());
                }
                self.check_never_cmp(c, &x, &y, span, scope)?;
                if let Type::Enum(e) = x.ty {
                    let ordered = self.prog.enums.get(e as usize).is_some_and(|e| e.ordered);
                    if !ordered && !matches!(c, ast::CmpOp::Eq | ast::CmpOp::Ne) {
                        let en = self.prog.type_name(x.ty);
                        self.err(
                            Diagnostic::new(Code::CompareType, format!("the values of `{en}` have no order"))
                                .at(span, "ordering comparison")
                                .help(format!("compare with `==` or `in`, or declare `enum {en} ordered {{ … }}` listing values from lowest to highest")),
                        );
                        return Err(());
                    }
                }
                if matches!(x.ty, Type::Bool | Type::Text) && !matches!(c, ast::CmpOp::Eq | ast::CmpOp::Ne) {
                    self.err(
                        Diagnostic::new(Code::CompareType, "true/false and text values have no order")
                            .at(span, "ordering comparison")
                            .help("compare with `==` or `!=`"),
                    );
                    return Err(());
                }
                Ok(Self::mk(ExprKind::Cmp(c, Box::new(x), Box::new(y)), Type::Bool, span))
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let x = self.expr(a, scope, None);
                let y = self.expr(b, scope, None);
                let (x, y) = (x?, y?);
                let aop = match op {
                    BinOp::Add => ArithOp::Add,
                    BinOp::Sub => ArithOp::Sub,
                    BinOp::Mul => ArithOp::Mul,
                    _ => ArithOp::Div,
                };
                match arith_type(aop, x.ty, y.ty) {
                    Some(t) => Ok(Self::mk(ExprKind::Arith(aop, Box::new(x), Box::new(y)), t, span)),
                    None => {
                        let (ta, tb) = (self.prog.type_name(x.ty), self.prog.type_name(y.ty));
                        let sym = match aop {
                            ArithOp::Add => "+",
                            ArithOp::Sub => "-",
                            ArithOp::Mul => "×",
                            ArithOp::Div => "/",
                        };
                        self.err(
                            Diagnostic::new(Code::ArithmeticType, format!("cannot compute {ta} {sym} {tb}"))
                                .at(span, "these kinds do not combine")
                                .also(x.span, format!("this is {ta}"))
                                .also(y.span, format!("this is {tb}"))
                                .help(arith_help(x.ty, y.ty)),
                        );
                        Err(())
                    }
                }
            }
        }
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Arg], span: Span, scope: Scope) -> R<Expr> {
        let f = name.name.as_str();
        let arity_err = |me: &mut Self, want: &str| {
            me.err(
                Diagnostic::new(Code::ArgumentType, format!("`{f}` takes {want}"))
                    .at(span, format!("{} given", args.len()))
                    .help(format!("see `{f}` in docs/language.md")),
            );
        };
        if let Some(ValueName::Table(t)) = self.values.get(f).copied() {
            return self.table_read(t, args, span, scope);
        }
        if Self::is_time_function(f) {
            return self.time_call(f, args, span, scope);
        }
        match f {
            "min" | "max" if self.list_first(args) => self.aggregate(f, args, span, scope),
            "min" | "max" | "abs" | "year" | "within" => {
                let mut xs = Vec::new();
                for a in args {
                    match a {
                        ast::Arg::Expr(e) => xs.push(self.expr(e, scope, None)?),
                        ast::Arg::Selection(s) => {
                            self.err(
                                Diagnostic::new(Code::ArgumentType, format!("`{f}` does not take a list"))
                                    .at(s.span, "a list here")
                                    .help("lists go to `sum`, `count`, `any`, `all`"),
                            );
                            return Err(());
                        }
                    }
                }
                let (b, ty) = match f {
                    "min" | "max" => {
                        if xs.len() < 2 {
                            arity_err(self, "two or more values");
                            return Err(());
                        }
                        let mut t = xs.first().map_or(Type::NUMBER, |x| x.ty);
                        for x in xs.iter().skip(1) {
                            t = match (t, x.ty) {
                                (a, b) if a == b && matches!(a, Type::Num(_) | Type::Date | Type::Year) => a,
                                (
                                    Type::Num(Num::Integer | Num::Number),
                                    Type::Num(Num::Integer | Num::Number),
                                ) => Type::NUMBER,
                                _ => {
                                    let (ta, tb) = (self.prog.type_name(t), self.prog.type_name(x.ty));
                                    self.err(
                                        Diagnostic::new(
                                            Code::ArgumentType,
                                            format!("`{f}` compares values of one kind, not {ta} and {tb}"),
                                        )
                                        .at(x.span, format!("this is {tb}"))
                                        .help("give it money with money, rates with rates"),
                                    );
                                    return Err(());
                                }
                            };
                        }
                        (if f == "min" { Builtin::Min } else { Builtin::Max }, t)
                    }
                    "abs" => {
                        let [x] = xs.as_slice() else {
                            arity_err(self, "one value");
                            return Err(());
                        };
                        if !matches!(x.ty, Type::Num(_)) {
                            self.expect_type(x, Type::NUMBER, Code::ArgumentType, "`abs` takes a number")?;
                        }
                        (Builtin::Abs, x.ty)
                    }
                    "year" => {
                        let [x] = xs.as_slice() else {
                            arity_err(self, "one date");
                            return Err(());
                        };
                        self.expect_type(x, Type::Date, Code::ArgumentType, "`year` takes a date")?;
                        (Builtin::Year, Type::Year)
                    }
                    _ => {
                        if xs.len() != 3 {
                            arity_err(self, "a date, a start date and an end date");
                            return Err(());
                        }
                        for x in &xs {
                            self.expect_type(x, Type::Date, Code::ArgumentType, "`within` takes dates")?;
                        }
                        (Builtin::Within, Type::Bool)
                    }
                };
                Ok(Self::mk(ExprKind::Call(b, xs), ty, span))
            }
            "increase" | "max_before" => {
                let [ast::Arg::Expr(e)] = args else {
                    arity_err(self, "one yearly series");
                    return Err(());
                };
                let Some((r, k)) = self.series_name(e, scope) else {
                    self.err(
                        Diagnostic::new(Code::NotSeries, format!("`{f}` reads a yearly series"))
                            .at(e.span, "not a series")
                            .help("name a fact declared as `series …`, without `[…]`"),
                    );
                    return Err(());
                };
                let kind = if f == "increase" { ExprKind::Increase(r) } else { ExprKind::MaxBefore(r) };
                Ok(Self::mk(kind, Type::Num(k), span))
            }
            "first_time" => {
                let [ast::Arg::Expr(e)] = args else {
                    arity_err(self, "one comparison of a yearly series");
                    return Err(());
                };
                let ast::ExprKind::Binary(BinOp::Cmp(op), s, rhs) = &e.kind else {
                    self.err(
                        Diagnostic::new(
                            Code::ArgumentType,
                            "`first_time` takes a comparison of a yearly series",
                        )
                        .at(e.span, "not a comparison")
                        .help("write `first_time(营业收入 超过 1亿)`"),
                    );
                    return Err(());
                };
                let Some((r, k)) = self.series_name(s, scope) else {
                    self.err(
                        Diagnostic::new(Code::NotSeries, "`first_time` reads a yearly series")
                            .at(s.span, "not a series")
                            .help("name a fact declared as `series …`, without `[…]`"),
                    );
                    return Err(());
                };
                let rhs = self.expr(rhs, scope, Some(Type::Num(k)))?;
                if !self.comparable(Type::Num(k), rhs.ty) {
                    let subj = self.expr(s, scope, None)?;
                    self.compare_error(&subj, &rhs, e.span);
                    return Err(());
                }
                Ok(Self::mk(ExprKind::FirstTime(r, *op, Box::new(rhs)), Type::Bool, span))
            }
            "sum" | "count" | "any" | "all" => self.aggregate(f, args, span, scope),
            _ => {
                let help = did_you_mean(f, FUNCTIONS.iter().copied())
                    .or_else(|| self.table_suggestion(f))
                    .unwrap_or_else(|| format!("the functions are {}", FUNCTIONS.join(", ")));
                self.err(
                    Diagnostic::new(Code::UnknownFunction, format!("unknown function `{f}`"))
                        .at(name.span, "not a function")
                        .help(help),
                );
                Err(())
            }
        }
    }

    /// A list function: `sum`, `count`, `any`, `all`, and `max` / `min` over a list.
    fn aggregate(&mut self, f: &str, args: &[ast::Arg], span: Span, _scope: Scope) -> R<Expr> {
        let arity_err = |me: &mut Self, want: &str| {
            me.err(
                Diagnostic::new(Code::ArgumentType, format!("`{f}` takes {want}"))
                    .at(span, format!("{} given", args.len()))
                    .help(format!("see `{f}` in docs/language.md")),
            );
        };
        let (sel, rest) = match args.split_first() {
            Some((ast::Arg::Selection(s), rest)) => (self.selection(s)?, rest),
            Some((ast::Arg::Expr(e), rest)) => {
                let ast::ExprKind::Name(n) = &e.kind else {
                    self.err(
                        Diagnostic::new(Code::ArgumentType, format!("`{f}` takes a list first"))
                            .at(e.span, "not a list")
                            .help(format!("write `{f}(贷款 where …)`")),
                    );
                    return Err(());
                };
                let s = ast::Selection {
                    list: ast::Ident { name: n.clone(), span: e.span },
                    ops: Vec::new(),
                    span: e.span,
                };
                (self.selection(&s)?, rest)
            }
            None => {
                arity_err(self, "a list");
                return Err(());
            }
        };
        let item = Scope { item: Some(sel.record) };
        let body = match rest {
            [] => None,
            [ast::Arg::Expr(e)] => Some(self.expr(e, item, None)?),
            _ => {
                arity_err(self, "a list and at most one expression");
                return Err(());
            }
        };
        let (op, ty) = match f {
            "sum" => {
                let Some(b) = &body else {
                    arity_err(self, "a list and the value to add up, e.g. `sum(贷款, 利息)`");
                    return Err(());
                };
                if !matches!(b.ty, Type::Num(_)) {
                    self.expect_type(b, Type::MONEY, Code::ArgumentType, "`sum` adds numbers or money")?;
                }
                (AggOp::Sum, b.ty)
            }
            "max" | "min" => {
                let Some(b) = &body else {
                    arity_err(self, "a list and the value to compare, e.g. `max(贷款, 贴息额)`");
                    return Err(());
                };
                if !matches!(b.ty, Type::Num(_)) {
                    let t = self.prog.type_name(b.ty);
                    self.err(
                        Diagnostic::new(
                            Code::ArgumentType,
                            format!("`{f}` over a list compares numbers, not {t}"),
                        )
                        .at(b.span, format!("this is {t}"))
                        .help("give it money, a rate or a number read on each item"),
                    );
                    return Err(());
                }
                (if f == "max" { AggOp::Max } else { AggOp::Min }, b.ty)
            }
            "count" => {
                if body.is_some() {
                    arity_err(self, "one list (filter it with `where`)");
                    return Err(());
                }
                (AggOp::Count, Type::INTEGER)
            }
            _ => {
                if let Some(b) = &body {
                    self.expect_type(b, Type::Bool, Code::NotBoolean, &format!("`{f}` tests a condition"))?;
                } else if f == "all" {
                    arity_err(self, "a list and a condition");
                    return Err(());
                }
                (if f == "any" { AggOp::Any } else { AggOp::All }, Type::Bool)
            }
        };
        Ok(Self::mk(ExprKind::Agg(op, Box::new(sel), body.map(Box::new)), ty, span))
    }

    /// Whether a call's first argument is a list (a selection, or the name of a list fact).
    fn list_first(&self, args: &[ast::Arg]) -> bool {
        match args.first() {
            Some(ast::Arg::Selection(_)) => true,
            Some(ast::Arg::Expr(ast::Expr { kind: ast::ExprKind::Name(n), .. })) => matches!(
                self.values.get(n),
                Some(ValueName::Fact(f)) if matches!(self.prog.facts.get(*f as usize).map(|x| x.ty), Some(Type::List(_)))
            ),
            _ => false,
        }
    }

    fn selection(&mut self, s: &ast::Selection) -> R<Selection> {
        let n = &s.list.name;
        let (list, record) = match self.values.get(n).copied() {
            Some(ValueName::Fact(f)) => match self.prog.facts.get(f as usize).map(|x| x.ty) {
                Some(Type::List(r)) => (f, r),
                _ => {
                    self.err(
                        Diagnostic::new(Code::ArgumentType, format!("`{n}` is not a list"))
                            .at(s.list.span, "not a list")
                            .help("name a fact declared as `list 记录`"),
                    );
                    return Err(());
                }
            },
            _ => {
                let lists: Vec<&str> = self
                    .prog
                    .facts
                    .iter()
                    .filter(|f| matches!(f.ty, Type::List(_)))
                    .map(|f| f.name.as_str())
                    .collect();
                let help = did_you_mean(n, lists.iter().copied())
                    .unwrap_or_else(|| format!("the lists are {}", lists.join(", ")));
                self.err(
                    Diagnostic::new(Code::UnknownName, format!("unknown list `{n}`"))
                        .at(s.list.span, "not declared")
                        .help(help),
                );
                return Err(());
            }
        };
        let item = Scope { item: Some(record) };
        let mut ops = Vec::new();
        for op in &s.ops {
            match op {
                ast::SelOp::Where(e) => {
                    let x = self.expr(e, item, Some(Type::Bool))?;
                    self.expect_type(&x, Type::Bool, Code::NotBoolean, "`where` needs a condition")?;
                    ops.push(SelOp::Where(x));
                }
                ast::SelOp::First { n, by, descending, .. } => {
                    let by = match by {
                        Some(b) => {
                            let k = self.expr(b, item, None)?;
                            if !matches!(k.ty, Type::Date | Type::Num(_) | Type::Year) {
                                let t = self.prog.type_name(k.ty);
                                self.err(
                                    Diagnostic::new(Code::ArgumentType, format!("cannot order items by {t}"))
                                        .at(b.span, "not a date or number")
                                        .help("order by a date or a number read on the item, e.g. `first 3 by 投保日期` or `first 5 by 金额 × 利率 descending`"),
                                );
                                return Err(());
                            }
                            Some(Box::new(k))
                        }
                        None => None,
                    };
                    ops.push(SelOp::First { n: *n, by, descending: *descending });
                }
            }
        }
        Ok(Selection { list, record, ops })
    }

    fn test(&mut self, t: &ast::TestDecl) {
        let mut ledger = Vec::new();
        let mut expects = Vec::new();
        let mut ok = true;
        for row in &t.ledger {
            let Some(cid) = self.clause_ref(&row.clause) else {
                ok = false;
                continue;
            };
            let Some(amount) = self.test_money(&row.amount, row.span) else {
                ok = false;
                continue;
            };
            let (balance, expires) = match &row.balance {
                Some((b, e)) => match self.test_money(b, row.span) {
                    Some(b) => (Some(b), Some(*e)),
                    None => {
                        ok = false;
                        continue;
                    }
                },
                None => (None, None),
            };
            let _ = cid;
            ledger.push(crate::eval::ledger::LedgerEntry {
                policy: row.clause.policy.as_str().into(),
                clause: row.clause.clause.as_str().into(),
                key: row.key.as_deref().map(Into::into),
                period: row.period,
                amount,
                balance,
                expires,
                kind: None,
            });
        }
        for e in &t.expects {
            match e {
                ast::Expect::Error { code, code_span, span } => {
                    match Code::ALL.iter().find(|c| c.id().eq_ignore_ascii_case(code)) {
                        Some(c) => expects.push(TestExpect::Error { code: *c, span: *span }),
                        None => {
                            let ids = Code::ALL.iter().map(|c| c.id());
                            let near = did_you_mean(code, ids).map(|d| format!("; {d}")).unwrap_or_default();
                            self.err(
                                Diagnostic::new(
                                    Code::UnknownCode,
                                    format!("`{code}` is not a diagnostic code huiqi emits"),
                                )
                                .at(*code_span, "unknown code")
                                .help(format!(
                                    "write a code listed in docs/diagnostics.md, such as `E0405` (a fact value out of range){near}"
                                )),
                            );
                            ok = false;
                        }
                    }
                }
                ast::Expect::Total { amount, span } => match self.test_money(amount, *span) {
                    Some(a) => expects.push(TestExpect::Total { amount: a, span: *span }),
                    None => ok = false,
                },
                ast::Expect::Clause { clause, status, amount, span } => {
                    let Some(cid) = self.clause_ref(clause) else {
                        ok = false;
                        continue;
                    };
                    let Some(st) = crate::eval::Status::parse(status) else {
                        ok = false;
                        continue;
                    };
                    let amount = match amount {
                        Some(a) => match self.test_money(a, *span) {
                            Some(x) => Some(x),
                            None => {
                                ok = false;
                                continue;
                            }
                        },
                        None => None,
                    };
                    expects.push(TestExpect::Clause { clause: cid, status: st, amount, span: *span });
                }
            }
        }
        if ok {
            let (facts, facts_span) =
                t.facts.clone().unwrap_or((crate::json::Json::Object(Default::default()), t.span));
            self.prog.tests.push(TestCase {
                name: t.name.clone(),
                span: t.span,
                period: t.period.map(|p| p.0),
                as_of: t.as_of,
                facts,
                facts_span,
                ledger,
                expects,
            });
        }
    }

    fn test_money(&mut self, text: &str, span: Span) -> Option<Decimal> {
        match crate::syntax::test_amount(text) {
            Ok(d) => Some(d),
            Err(m) => {
                self.err(
                    Diagnostic::new(Code::BadLiteral, m)
                        .at(span, "expected an amount")
                        .help("write an amount such as `30万` or `0`"),
                );
                None
            }
        }
    }

    fn clause_ref(&mut self, r: &ast::ClauseRef) -> Option<ClauseId> {
        if let Some(c) = self.prog.find_clause(&r.policy, &r.clause) {
            return Some(c);
        }
        // already reported: the clause, or the file that may hold it, had errors
        if self.earlier_errors || self.failed_clauses.contains(&(r.policy.clone(), r.clause.clone())) {
            return None;
        }
        let all: Vec<String> = self.prog.clause_index.keys().map(|(p, c)| format!("{p}.{c}")).collect();
        let want = format!("{}.{}", r.policy, r.clause);
        let help = did_you_mean(&want, all.iter().map(String::as_str))
            .unwrap_or_else(|| "name a clause as `文档.条款`, e.g. `E23.5`".into());
        self.err(
            Diagnostic::new(Code::UnknownClause, format!("unknown clause `{want}`"))
                .at(r.span, "no such clause")
                .help(help),
        );
        None
    }
}

const BUILTIN_TYPES: &[&str] = &["money", "rate", "number", "integer", "boolean", "date", "year", "text"];
const FUNCTIONS: &[&str] = &[
    "month",
    "day",
    "total",
    "months",
    "add_months",
    "add_days",
    "months_between",
    "days_between",
    "min",
    "max",
    "abs",
    "year",
    "within",
    "increase",
    "max_before",
    "first_time",
    "sum",
    "count",
    "any",
    "all",
];

fn builtin_type(n: &str) -> Option<Type> {
    Some(match n {
        "money" => Type::MONEY,
        "rate" => Type::RATE,
        "number" => Type::NUMBER,
        "integer" => Type::INTEGER,
        "boolean" => Type::Bool,
        "date" => Type::Date,
        "year" => Type::Year,
        "text" => Type::Text,
        _ => return None,
    })
}

fn example_of(t: Type) -> &'static str {
    match t {
        Type::Num(Num::Money) => "`30万`",
        Type::Num(Num::Rate) => "`20%`",
        Type::Num(_) => "`3`",
        Type::Bool => "`营业收入 达到 1亿`",
        Type::Date => "`2023-03-02`",
        Type::Year => "`period - 1`",
        _ => "a value of that type",
    }
}

/// The type of an arithmetic result, or `None` when the kinds do not combine.
pub fn arith_type(op: ArithOp, a: Type, b: Type) -> Option<Type> {
    use Num::*;
    let (Type::Num(x), Type::Num(y)) = (a, b) else {
        return match (op, a, b) {
            (ArithOp::Add | ArithOp::Sub, Type::Year, Type::Num(Integer)) => Some(Type::Year),
            (ArithOp::Add, Type::Num(Integer), Type::Year) => Some(Type::Year),
            (ArithOp::Sub, Type::Year, Type::Year) => Some(Type::INTEGER),
            _ => None,
        };
    };
    let plain = |x: Num, y: Num| if x == Integer && y == Integer { Integer } else { Number };
    let r = match op {
        ArithOp::Add | ArithOp::Sub => match (x, y) {
            (Money, Money) => Money,
            (Rate, Rate) => Rate,
            (Number | Integer, Number | Integer) => plain(x, y),
            _ => return None,
        },
        ArithOp::Mul => match (x, y) {
            (Money, Rate | Number | Integer) | (Rate | Number | Integer, Money) => Money,
            (Rate, Rate) => Rate,
            (Rate, Number | Integer) | (Number | Integer, Rate) => Rate,
            (Number | Integer, Number | Integer) => plain(x, y),
            _ => return None,
        },
        ArithOp::Div => match (x, y) {
            (Money, Money) => Rate,
            (Money, Number | Integer | Rate) => Money,
            (Rate, Rate) => Number,
            (Rate, Number | Integer) => Rate,
            (Number | Integer, Number | Integer) => Number,
            _ => return None,
        },
    };
    Some(Type::Num(r))
}

fn arith_help(a: Type, b: Type) -> String {
    match (a, b) {
        (Type::Num(Num::Money), Type::Num(Num::Rate)) | (Type::Num(Num::Rate), Type::Num(Num::Money)) => {
            "a rate applies to money by multiplying: write `金额 × 20%`".into()
        }
        (Type::Num(Num::Money), Type::Num(_)) | (Type::Num(_), Type::Num(Num::Money)) => {
            "money adds only to money: write the number as money (`30万`, `3000元`)".into()
        }
        _ => "arithmetic works on money, rates and numbers of matching kinds; see docs/language.md".into(),
    }
}

fn placeholder(span: Span) -> Expr {
    Expr { kind: ExprKind::Const(Const::Bool(false)), ty: Type::Bool, span }
}

/// An expression's depth and size with the definitions it uses counted in place.
#[derive(Clone, Copy, Debug, Default)]
struct Cost {
    depth: usize,
    size: usize,
}

/// The [`Cost`] of an expression whose definitions are lowered (their costs in `defs`). The
/// expression itself is at most [`crate::syntax::MAX_EXPR_DEPTH`] deep, so the recursion is
/// bounded.
fn expanded(e: &Expr, defs: &[Cost]) -> Cost {
    let mut children = Vec::new();
    match &e.kind {
        ExprKind::SeriesAt(_, x)
        | ExprKind::Not(x)
        | ExprKind::Neg(x)
        | ExprKind::FirstTime(_, _, x)
        | ExprKind::In(x, _) => children.push(&**x),
        ExprKind::Arith(_, a, b) | ExprKind::Cmp(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            children.extend([&**a, &**b]);
        }
        ExprKind::Call(_, xs) => children.extend(xs.iter()),
        ExprKind::If(c, a, b) => children.extend([&**c, &**a, &**b]),
        // what is evaluated: the rows over the value read
        ExprKind::Table(t) => children.push(&t.lowered),
        ExprKind::Agg(_, sel, body) => {
            children.extend(sel.exprs());
            children.extend(body.iter().map(|b| &**b));
        }
        ExprKind::Def(d) => {
            return defs
                .get(*d as usize)
                .map_or(Cost::default(), |c| Cost { depth: c.depth + 1, size: c.size.saturating_add(1) });
        }
        _ => {}
    }
    children.iter().map(|x| expanded(x, defs)).fold(Cost { depth: 1, size: 1 }, |acc, c| Cost {
        depth: acc.depth.max(c.depth + 1),
        size: acc.size.saturating_add(c.size),
    })
}

/// How many definitions deep an expression reaches (definitions already lowered).
fn def_depth(e: &Expr, prog: &Program, states: &[DefState]) -> usize {
    let mut max = 0;
    visit(e, &mut |x| {
        if let ExprKind::Def(d) = x.kind
            && let Some(DefState::Done(_, depth)) = states.get(d as usize)
        {
            max = max.max(*depth);
        }
    });
    let _ = prog;
    max
}

/// Calls `f` on every node of an expression, children first.
pub fn visit(e: &Expr, f: &mut dyn FnMut(&Expr)) {
    match &e.kind {
        ExprKind::SeriesAt(_, x)
        | ExprKind::Not(x)
        | ExprKind::Neg(x)
        | ExprKind::FirstTime(_, _, x)
        | ExprKind::In(x, _) => visit(x, f),
        ExprKind::Arith(_, a, b) | ExprKind::Cmp(_, a, b) | ExprKind::And(a, b) | ExprKind::Or(a, b) => {
            visit(a, f);
            visit(b, f);
        }
        ExprKind::Call(_, xs) => xs.iter().for_each(|x| visit(x, f)),
        ExprKind::If(c, a, b) => {
            visit(c, f);
            visit(a, f);
            visit(b, f);
        }
        // the value read; the table's rows are the table's (like a definition's body)
        ExprKind::Table(t) => visit(&t.subject, f),
        ExprKind::Agg(_, sel, body) => {
            for x in sel.exprs() {
                visit(x, f);
            }
            if let Some(b) = body {
                visit(b, f);
            }
        }
        _ => {}
    }
    f(e);
}

/// A document key: a letter (any script), then letters and ASCII digits (`E23`, `津23`), as
/// clause references (`E23.5`) in tests, ledgers and `excludes` are written.
pub fn valid_key(key: &str) -> bool {
    let mut cs = key.chars();
    cs.next().is_some_and(char::is_alphabetic) && cs.all(|c| c.is_alphabetic() || c.is_ascii_digit())
}

/// A valid key made of the letters and digits of an invalid one.
fn suggest_key(key: &str) -> String {
    let kept: String = key.chars().filter(|c| c.is_alphabetic() || c.is_ascii_digit()).collect();
    if kept.chars().next().is_some_and(char::is_alphabetic) { kept } else { format!("K{kept}") }
}
