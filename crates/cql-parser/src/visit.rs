//! Collection of bind markers from a statement tree.
//!
//! Walks every place a bind marker can occur (terms, selectors, relations,
//! conditions, `USING`, `LIMIT`, `INSERT JSON`, `ORDER BY ... ANN OF`,
//! column masks). Order of collection is irrelevant: callers sort by index.

use crate::ast::*;

pub(crate) fn collect_statement_markers<'a>(stmt: &'a Statement, out: &mut Vec<&'a BindMarker>) {
    match stmt {
        Statement::Select(s) => select(s, out),
        Statement::Insert(s) => insert(s, out),
        Statement::Update(s) => update(s, out),
        Statement::Delete(s) => delete(s, out),
        Statement::Batch(b) => {
            using(&b.using, out);
            for child in &b.statements {
                match child {
                    ModificationStatement::Insert(s) => insert(s, out),
                    ModificationStatement::Update(s) => update(s, out),
                    ModificationStatement::Delete(s) => delete(s, out),
                }
            }
        }
        Statement::CreateTable(s) => {
            for c in &s.columns {
                mask(c.mask.as_ref(), out);
            }
        }
        Statement::AlterTable(s) => match &s.action {
            AlterTableAction::AlterColumnMask { mask: m, .. } => mask(m.as_ref(), out),
            AlterTableAction::Add { columns, .. } => {
                for c in columns {
                    mask(c.mask.as_ref(), out);
                }
            }
            _ => {}
        },
        Statement::CreateMaterializedView(s) => {
            selection(&s.selection, out);
            relations(&s.where_clause, out);
        }
        Statement::Use(_)
        | Statement::Truncate(_)
        | Statement::CreateKeyspace(_)
        | Statement::AlterKeyspace(_)
        | Statement::DropKeyspace(_)
        | Statement::DropTable(_)
        | Statement::CreateType(_)
        | Statement::AlterType(_)
        | Statement::DropType(_)
        | Statement::CreateIndex(_)
        | Statement::DropIndex(_)
        | Statement::AlterMaterializedView(_)
        | Statement::DropMaterializedView(_)
        | Statement::Describe(_)
        | Statement::AccessControl(_)
        | Statement::CreateFunction(_)
        | Statement::DropFunction(_)
        | Statement::CreateTrigger(_)
        | Statement::DropTrigger(_) => {}
        Statement::CreateAggregate(s) => {
            if let Some(t) = &s.initial_condition {
                term(t, out);
            }
        }
    }
}

fn mask<'a>(m: Option<&'a ColumnMask>, out: &mut Vec<&'a BindMarker>) {
    if let Some(ColumnMask::Function { args, .. }) = m {
        terms(args, out);
    }
}

fn select<'a>(s: &'a SelectStatement, out: &mut Vec<&'a BindMarker>) {
    selection(&s.selection, out);
    relations(&s.where_clause, out);
    for g in &s.group_by {
        selector(g, out);
    }
    for o in &s.order_by {
        if let Some(t) = &o.ann_of {
            term(t, out);
        }
    }
    if let Some(t) = &s.per_partition_limit {
        term(t, out);
    }
    if let Some(t) = &s.limit {
        term(t, out);
    }
}

fn selection<'a>(s: &'a Selection, out: &mut Vec<&'a BindMarker>) {
    if let Selection::Items(items) = s {
        for item in items {
            selector(&item.selector, out);
        }
    }
}

fn insert<'a>(s: &'a InsertStatement, out: &mut Vec<&'a BindMarker>) {
    match &s.values {
        InsertValues::Values { values, .. } => terms(values, out),
        InsertValues::Json {
            value: JsonValue::Marker(m),
            ..
        } => out.push(m),
        InsertValues::Json { .. } => {}
    }
    using(&s.using, out);
}

fn update<'a>(s: &'a UpdateStatement, out: &mut Vec<&'a BindMarker>) {
    using(&s.using, out);
    for a in &s.assignments {
        match a {
            Assignment::Set { value, .. }
            | Assignment::SetField { value, .. }
            | Assignment::Add { value, .. }
            | Assignment::Subtract { value, .. }
            | Assignment::Prepend { value, .. } => term(value, out),
            Assignment::SetElement { key, value, .. } => {
                term(key, out);
                term(value, out);
            }
        }
    }
    relations(&s.where_clause, out);
    conditions(&s.conditions, out);
}

fn delete<'a>(s: &'a DeleteStatement, out: &mut Vec<&'a BindMarker>) {
    for t in &s.targets {
        if let DeleteTarget::Element { key, .. } = t {
            term(key, out);
        }
    }
    if let Some(t) = &s.timestamp {
        term(t, out);
    }
    relations(&s.where_clause, out);
    conditions(&s.conditions, out);
}

fn using<'a>(attrs: &'a [UsingAttribute], out: &mut Vec<&'a BindMarker>) {
    for a in attrs {
        match a {
            UsingAttribute::Timestamp(t) | UsingAttribute::Ttl(t) => term(t, out),
        }
    }
}

fn in_values<'a>(v: &'a InValues, out: &mut Vec<&'a BindMarker>) {
    match v {
        InValues::Terms(items) => terms(items, out),
        InValues::Marker(m) => out.push(m),
    }
}

fn conditions<'a>(conds: &'a [Condition], out: &mut Vec<&'a BindMarker>) {
    for c in conds {
        if let ConditionTarget::Element(t) = &c.target {
            term(t, out);
        }
        match &c.op {
            ConditionOp::Compare(_, t) | ConditionOp::Contains(t) | ConditionOp::ContainsKey(t) => {
                term(t, out)
            }
            ConditionOp::In(v) => in_values(v, out),
        }
    }
}

fn relations<'a>(rels: &'a [Relation], out: &mut Vec<&'a BindMarker>) {
    for r in rels {
        match r {
            Relation::Compare { value, .. }
            | Relation::Like { value, .. }
            | Relation::Contains { value, .. }
            | Relation::Token { value, .. }
            | Relation::MultiColumnCompare { value, .. }
            | Relation::CustomIndex { value, .. } => term(value, out),
            Relation::MapElement { key, value, .. } => {
                term(key, out);
                term(value, out);
            }
            Relation::In { values, .. } | Relation::MultiColumnIn { values, .. } => {
                in_values(values, out)
            }
            Relation::IsNotNull { .. } => {}
        }
    }
}

fn terms<'a>(items: &'a [Term], out: &mut Vec<&'a BindMarker>) {
    for t in items {
        term(t, out);
    }
}

/// Iterative walk (trees can be as deep as the parser's nesting limit).
fn term<'a>(t: &'a Term, out: &mut Vec<&'a BindMarker>) {
    let mut stack = vec![t];
    while let Some(t) = stack.pop() {
        match t {
            Term::Constant(_) | Term::Null => {}
            Term::BindMarker(m) => out.push(m),
            Term::List(items) | Term::Set(items) | Term::Tuple(items) => stack.extend(items),
            Term::FunctionCall { args, .. } => stack.extend(args),
            Term::Map(entries) => {
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Term::UserType(fields) => stack.extend(fields.iter().map(|(_, v)| v)),
            Term::TypeHint { term, .. } | Term::Cast { term, .. } | Term::Negate(term) => {
                stack.push(term)
            }
            Term::Binary { left, right, .. } => {
                stack.push(left);
                stack.push(right);
            }
        }
    }
}

fn selector<'a>(s: &'a Selector, out: &mut Vec<&'a BindMarker>) {
    let mut stack = vec![s];
    while let Some(s) = stack.pop() {
        match s {
            Selector::Column(_) | Selector::CountRows => {}
            Selector::Term(t) => term(t, out),
            Selector::Writetime { target, .. } => stack.push(target),
            Selector::Cast { selector, .. }
            | Selector::Field { selector, .. }
            | Selector::TypeHint { selector, .. }
            | Selector::Negate(selector) => stack.push(selector),
            Selector::Element { selector, element } => {
                stack.push(selector);
                term(element, out);
            }
            Selector::Slice { selector, from, to } => {
                stack.push(selector);
                if let Some(t) = from {
                    term(t, out);
                }
                if let Some(t) = to {
                    term(t, out);
                }
            }
            Selector::Function { args, .. } => stack.extend(args),
            Selector::List(items) | Selector::Set(items) | Selector::Tuple(items) => {
                stack.extend(items)
            }
            Selector::MapOrUdt(entries) => {
                for (k, v) in entries {
                    stack.push(k);
                    stack.push(v);
                }
            }
            Selector::Binary { left, right, .. } => {
                stack.push(left);
                stack.push(right);
            }
        }
    }
}
