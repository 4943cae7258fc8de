//! Reading a named table (`担保费率上限表(单户担保额)`) in the full evaluator: the value is the
//! table's lowered reading ([`TableRead::lowered`], the nodes the lean kernel compiles too, so
//! the two agree by construction); with explanations on, also the version read and the row
//! that applied (tiers) or the slices (brackets), as a [`Step::Table`].

use super::{Evaluator, Step, V, Value, cmp_num};
use crate::ir::*;
use crate::syntax::ast::TableKind;
use rust_decimal::Decimal;

impl Evaluator<'_> {
    pub(super) fn table(&mut self, t: &TableRead, ty: Type) -> V {
        let mark = self.reads.len();
        let v = self.eval(&t.lowered)?;
        if !self.explain {
            return Ok(v);
        }
        // the rows compared the value once per row: show the value once, then the read
        self.reads.truncate(mark);
        let Some(Value::Num(value)) = v else { return Ok(v) };
        let subject = self.eval(&t.subject)?;
        // what the subject read and was not shown already (`单户担保额 × 表(单户担保额)`)
        let (before, new) = self.reads.split_at(mark.min(self.reads.len()));
        let fresh: Vec<(String, String)> = new.iter().filter(|r| !before.contains(r)).cloned().collect();
        self.reads.truncate(mark);
        self.reads.extend(fresh);
        let Some(Value::Num(x)) = subject else { return Ok(Some(Value::Num(value))) };
        let Some(def) = self.prog.tables.get(t.table as usize) else { return Ok(Some(Value::Num(value))) };
        let k = def.version_on(self.date);
        let Some(version) = def.versions.get(k) else { return Ok(Some(Value::Num(value))) };
        let text = crate::ir::show::expr(
            self.prog,
            &Expr { kind: ExprKind::Table(Box::new(t.clone())), ty, span: t.subject.span },
        );
        let mut row = None;
        let mut slices = Vec::new();
        match def.kind {
            TableKind::Tiers => {
                for r in version.tiers.iter().rev() {
                    let Some(th) = self.num(&r.threshold)? else { continue };
                    if cmp_num(r.op, x, th) {
                        row = Some(format!("{} {}", r.op.word_zh(), r.key));
                        break;
                    }
                }
            }
            TableKind::Brackets => {
                let mut lower = Decimal::ZERO;
                for b in &version.brackets {
                    let upper = match &b.upper {
                        Some(u) => self.num(u)?,
                        None => None,
                    };
                    let Some(rate) = self.num(&b.rate)? else { break };
                    let top = upper.map_or(x, |u| u.min(x));
                    if top <= lower {
                        break;
                    }
                    let Some(slice) = top.checked_sub(lower) else { break };
                    let Some(part) = slice.checked_mul(rate) else { break };
                    slices.push((lower, upper, slice, rate, part));
                    match upper {
                        Some(u) => lower = u,
                        None => break,
                    }
                }
            }
        }
        let versioned = def.versions.len() > 1;
        self.table_steps.push(Step::Table {
            text: text.clone(),
            version: versioned.then(|| (version.from, version.label.clone())),
            subject: x,
            subject_ty: t.subject.ty,
            row,
            slices,
            brackets: def.kind == TableKind::Brackets,
            value,
            ty,
        });
        self.read(|| text, &Value::Num(value), ty);
        Ok(Some(Value::Num(value)))
    }
}
