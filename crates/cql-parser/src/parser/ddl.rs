//! Schema statements: keyspaces, tables, types, indexes, materialized views.

use super::{is_cident, is_ident, Fail, PResult, Parser};
use crate::ast::{
    AddedColumn, AlterKeyspaceStatement, AlterMaterializedViewStatement, AlterTableAction,
    AlterTableStatement, AlterTypeAction, AlterTypeStatement, ClusteringOrder, ColumnDefinition,
    ColumnMask, CreateIndexStatement, CreateKeyspaceStatement, CreateMaterializedViewStatement,
    CreateTableStatement, CreateTypeStatement, DropIndexStatement, DropKeyspaceStatement,
    DropMaterializedViewStatement, DropTableStatement, DropTypeStatement, FieldDefinition,
    Identifier, IndexTarget, Order, PrimaryKey, Property, Selection, TableOption,
};
use crate::error::ParseError;
use crate::token::{Kw, TokenKind};

impl Parser<'_> {
    /// `(IF NOT EXISTS)?`
    pub(crate) fn if_not_exists(&mut self) -> PResult<bool> {
        if self.eat_kw(Kw::If) {
            self.expect_kw(Kw::Not)?;
            self.expect_kw(Kw::Exists)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `(IF EXISTS)?`
    pub(crate) fn if_exists(&mut self) -> PResult<bool> {
        if self.eat_kw(Kw::If) {
            self.expect_kw(Kw::Exists)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// `K_KEYSPACE` (which Cassandra's lexer also spells `SCHEMA`).
    fn keyspace_keyword(&mut self) -> PResult<()> {
        if self.eat_kw(Kw::Schema) {
            return Ok(());
        }
        self.expect_kw(Kw::Keyspace).map(|_| ())
    }

    pub(crate) fn create_keyspace(&mut self) -> PResult<CreateKeyspaceStatement> {
        self.expect_kw(Kw::Create)?;
        self.keyspace_keyword()?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.keyspace_name()?;
        self.expect_kw(Kw::With)?;
        let mut properties = Vec::new();
        self.properties(&mut properties)?;
        Ok(CreateKeyspaceStatement {
            if_not_exists,
            name,
            properties,
        })
    }

    pub(crate) fn alter_keyspace(&mut self) -> PResult<AlterKeyspaceStatement> {
        self.expect_kw(Kw::Alter)?;
        self.keyspace_keyword()?;
        let if_exists = self.if_exists()?;
        let name = self.keyspace_name()?;
        self.expect_kw(Kw::With)?;
        let mut properties = Vec::new();
        self.properties(&mut properties)?;
        Ok(AlterKeyspaceStatement {
            if_exists,
            name,
            properties,
        })
    }

    pub(crate) fn drop_keyspace(&mut self) -> PResult<DropKeyspaceStatement> {
        self.expect_kw(Kw::Drop)?;
        self.keyspace_keyword()?;
        let if_exists = self.if_exists()?;
        let name = self.keyspace_name()?;
        Ok(DropKeyspaceStatement { if_exists, name })
    }

    /// `columnMask`: `MASKED WITH (DEFAULT | functionName args)`.
    fn column_mask(&mut self) -> PResult<Option<ColumnMask>> {
        if !self.eat_kw(Kw::Masked) {
            return Ok(None);
        }
        self.expect_kw(Kw::With)?;
        if self.at_kw(Kw::Default) && !matches!(self.la(2), TokenKind::LParen | TokenKind::Dot) {
            self.advance();
            return Ok(Some(ColumnMask::Default));
        }
        let name = self.function_name()?;
        self.expect(TokenKind::LParen)?;
        let mut args = Vec::new();
        if !self.at(TokenKind::RParen) {
            args.push(self.term()?);
            while self.eat(TokenKind::Comma) {
                args.push(self.term()?);
            }
        }
        self.expect(TokenKind::RParen)?;
        Ok(Some(ColumnMask::Function { name, args }))
    }

    /// `PRIMARY KEY '(' partitionKey (',' ident)* ')'` (after `PRIMARY`).
    fn primary_key_clause(&mut self) -> PResult<PrimaryKey> {
        self.expect_kw(Kw::Primary)?;
        self.expect_kw(Kw::Key)?;
        self.expect(TokenKind::LParen)?;
        let partition_key = if self.eat(TokenKind::LParen) {
            let mut cols = vec![self.ident()?];
            while self.eat(TokenKind::Comma) {
                cols.push(self.ident()?);
            }
            self.expect(TokenKind::RParen)?;
            cols
        } else {
            vec![self.ident()?]
        };
        let mut clustering_columns = Vec::new();
        while self.eat(TokenKind::Comma) {
            clustering_columns.push(self.ident()?);
        }
        self.expect(TokenKind::RParen)?;
        Ok(PrimaryKey {
            partition_key,
            clustering_columns,
        })
    }

    /// `CLUSTERING ORDER BY '(' ident (ASC|DESC) (',' ...)* ')'` (after the
    /// `CLUSTERING` keyword check).
    fn clustering_order(&mut self) -> PResult<Vec<ClusteringOrder>> {
        self.expect_kw(Kw::Clustering)?;
        self.expect_kw(Kw::Order)?;
        self.expect_kw(Kw::By)?;
        self.expect(TokenKind::LParen)?;
        let mut out = Vec::new();
        loop {
            let column = self.ident()?;
            let order = if self.eat_kw(Kw::Asc) {
                Order::Asc
            } else if self.eat_kw(Kw::Desc) {
                Order::Desc
            } else {
                return Err(self.no_viable());
            };
            out.push(ClusteringOrder { column, order });
            if !self.eat(TokenKind::Comma) {
                break;
            }
        }
        self.expect(TokenKind::RParen)?;
        Ok(out)
    }

    /// `tableProperty` / `viewProperty`.
    fn table_option(&mut self, options: &mut Vec<TableOption>, is_view: bool) -> PResult<()> {
        if self.at_kw(Kw::Compact) && self.la(2) == TokenKind::Keyword(Kw::Storage) {
            if is_view {
                return Err(Fail::Thrown(Box::new(ParseError::Invalid {
                    message: "COMPACT STORAGE tables are not allowed starting with version 4.0"
                        .to_string(),
                })));
            }
            self.advance();
            self.advance();
            options.push(TableOption::CompactStorage);
            return Ok(());
        }
        if self.at_kw(Kw::Clustering) && self.la(2) == TokenKind::Keyword(Kw::Order) {
            options.push(TableOption::ClusteringOrder(self.clustering_order()?));
            return Ok(());
        }
        let prop = self.property()?;
        let duplicate = options
            .iter()
            .any(|o| matches!(o, TableOption::Property(p) if p.name == prop.name));
        if duplicate {
            self.duplicate_property(&prop.name);
        }
        options.push(TableOption::Property(prop));
        Ok(())
    }

    /// `( K_WITH option ( K_AND option )* )?`
    fn table_options(&mut self, is_view: bool) -> PResult<Vec<TableOption>> {
        let mut options = Vec::new();
        if self.eat_kw(Kw::With) {
            self.table_option(&mut options, is_view)?;
            while self.eat_kw(Kw::And) {
                self.table_option(&mut options, is_view)?;
            }
        }
        Ok(options)
    }

    pub(crate) fn create_table(&mut self) -> PResult<CreateTableStatement> {
        self.expect_kw(Kw::Create)?;
        self.expect_kw(Kw::ColumnFamily)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.table_name()?;
        self.expect(TokenKind::LParen)?;
        let mut columns = Vec::new();
        let mut primary_keys = Vec::new();
        self.table_element(&mut columns, &mut primary_keys)?;
        while self.eat(TokenKind::Comma) {
            if !matches!(self.la(1), TokenKind::Comma | TokenKind::RParen) {
                self.table_element(&mut columns, &mut primary_keys)?;
            }
        }
        self.expect(TokenKind::RParen)?;
        let options = self.table_options(false)?;
        Ok(CreateTableStatement {
            if_not_exists,
            name,
            columns,
            primary_keys,
            options,
        })
    }

    /// `tableColumns`: a column definition or a `PRIMARY KEY` clause.
    fn table_element(
        &mut self,
        columns: &mut Vec<ColumnDefinition>,
        primary_keys: &mut Vec<PrimaryKey>,
    ) -> PResult<()> {
        if self.at_kw(Kw::Primary) {
            primary_keys.push(self.primary_key_clause()?);
            return Ok(());
        }
        let name = self.ident()?;
        let ty = self.comparator_type()?;
        let is_static = self.eat_kw(Kw::Static);
        let mask = self.column_mask()?;
        let primary_key = if self.eat_kw(Kw::Primary) {
            self.expect_kw(Kw::Key)?;
            true
        } else {
            false
        };
        columns.push(ColumnDefinition {
            name,
            ty,
            is_static,
            mask,
            primary_key,
        });
        Ok(())
    }

    fn added_column(&mut self) -> PResult<AddedColumn> {
        let name = self.ident()?;
        let ty = self.comparator_type()?;
        let is_static = self.eat_kw(Kw::Static);
        let mask = self.column_mask()?;
        Ok(AddedColumn {
            name,
            ty,
            is_static,
            mask,
        })
    }

    fn renames(&mut self) -> PResult<Vec<(Identifier, Identifier)>> {
        let mut out = Vec::new();
        loop {
            let from = self.ident()?;
            self.expect_kw(Kw::To)?;
            out.push((from, self.ident()?));
            if !self.eat_kw(Kw::And) {
                return Ok(out);
            }
        }
    }

    pub(crate) fn alter_table(&mut self) -> PResult<AlterTableStatement> {
        self.expect_kw(Kw::Alter)?;
        self.expect_kw(Kw::ColumnFamily)?;
        let if_exists = self.if_exists()?;
        let name = self.table_name()?;
        let action = match self.la(1) {
            TokenKind::Keyword(Kw::Alter) => {
                let second = self.la(2);
                let third = self.la(3);
                if second == TokenKind::Keyword(Kw::If)
                    || (is_cident(second)
                        && matches!(third, TokenKind::Keyword(Kw::Masked | Kw::Drop)))
                {
                    self.advance();
                    let if_exists = self.if_exists()?;
                    let column = self.cident()?;
                    let mask = if self.eat_kw(Kw::Drop) {
                        self.expect_kw(Kw::Masked)?;
                        None
                    } else {
                        self.column_mask()?
                    };
                    AlterTableAction::AlterColumnMask {
                        if_exists,
                        column,
                        mask,
                    }
                } else if is_cident(second) && third == TokenKind::Keyword(Kw::Type) {
                    self.advance();
                    let column = self.cident()?;
                    self.advance();
                    let ty = self.comparator_type()?;
                    AlterTableAction::AlterColumnType { column, ty }
                } else if is_cident(second) {
                    return Err(self.no_viable_at(3));
                } else {
                    return Err(self.no_viable_at(2));
                }
            }
            TokenKind::Keyword(Kw::Add) => {
                self.advance();
                let if_not_exists = self.if_not_exists()?;
                let columns = if self.eat(TokenKind::LParen) {
                    let mut cols = vec![self.added_column()?];
                    while self.eat(TokenKind::Comma) {
                        cols.push(self.added_column()?);
                    }
                    self.expect(TokenKind::RParen)?;
                    cols
                } else {
                    vec![self.added_column()?]
                };
                AlterTableAction::Add {
                    if_not_exists,
                    columns,
                }
            }
            TokenKind::Keyword(Kw::Drop)
                if self.la(2) == TokenKind::Keyword(Kw::Compact)
                    && self.la(3) == TokenKind::Keyword(Kw::Storage) =>
            {
                self.advance();
                self.advance();
                self.advance();
                AlterTableAction::DropCompactStorage
            }
            TokenKind::Keyword(Kw::Drop) => {
                self.advance();
                let if_exists = self.if_exists()?;
                let columns = if self.eat(TokenKind::LParen) {
                    let mut cols = vec![self.ident()?];
                    while self.eat(TokenKind::Comma) {
                        cols.push(self.ident()?);
                    }
                    self.expect(TokenKind::RParen)?;
                    cols
                } else {
                    vec![self.ident()?]
                };
                let timestamp = if self.eat_kw(Kw::Using) {
                    self.expect_kw(Kw::Timestamp)?;
                    let tok = self.expect(TokenKind::Integer)?;
                    let text = self.text(&tok);
                    match text.parse::<i64>() {
                        Ok(ts) => Some(ts),
                        Err(_) => {
                            return Err(Fail::Ready(Box::new(ParseError::Invalid {
                                message: format!("Invalid timestamp value: {text}"),
                            })))
                        }
                    }
                } else {
                    None
                };
                AlterTableAction::Drop {
                    if_exists,
                    columns,
                    timestamp,
                }
            }
            TokenKind::Keyword(Kw::Rename) => {
                self.advance();
                let if_exists = self.if_exists()?;
                AlterTableAction::Rename {
                    if_exists,
                    renames: self.renames()?,
                }
            }
            TokenKind::Keyword(Kw::With) => {
                self.advance();
                let mut properties = Vec::new();
                self.properties(&mut properties)?;
                AlterTableAction::With(properties)
            }
            _ => return Err(self.no_viable()),
        };
        Ok(AlterTableStatement {
            if_exists,
            name,
            action,
        })
    }

    pub(crate) fn drop_table(&mut self) -> PResult<DropTableStatement> {
        self.expect_kw(Kw::Drop)?;
        self.expect_kw(Kw::ColumnFamily)?;
        let if_exists = self.if_exists()?;
        let name = self.table_name()?;
        Ok(DropTableStatement { if_exists, name })
    }

    fn field_definition(&mut self) -> PResult<FieldDefinition> {
        let name = self.ident()?;
        let ty = self.comparator_type()?;
        Ok(FieldDefinition { name, ty })
    }

    pub(crate) fn create_type(&mut self) -> PResult<CreateTypeStatement> {
        self.expect_kw(Kw::Create)?;
        self.expect_kw(Kw::Type)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.user_type_name()?;
        self.expect(TokenKind::LParen)?;
        let mut fields = vec![self.field_definition()?];
        while self.eat(TokenKind::Comma) {
            if !matches!(self.la(1), TokenKind::Comma | TokenKind::RParen) {
                fields.push(self.field_definition()?);
            }
        }
        self.expect(TokenKind::RParen)?;
        Ok(CreateTypeStatement {
            if_not_exists,
            name,
            fields,
        })
    }

    pub(crate) fn alter_type(&mut self) -> PResult<AlterTypeStatement> {
        self.expect_kw(Kw::Alter)?;
        self.expect_kw(Kw::Type)?;
        let if_exists = self.if_exists()?;
        let name = self.user_type_name()?;
        let action = match self.la(1) {
            TokenKind::Keyword(Kw::Alter) => {
                self.advance();
                let field = self.ident()?;
                self.expect_kw(Kw::Type)?;
                let ty = self.comparator_type()?;
                AlterTypeAction::AlterFieldType { field, ty }
            }
            TokenKind::Keyword(Kw::Add) => {
                self.advance();
                let if_not_exists = self.if_not_exists()?;
                AlterTypeAction::Add {
                    if_not_exists,
                    field: self.field_definition()?,
                }
            }
            TokenKind::Keyword(Kw::Rename) => {
                self.advance();
                let if_exists = self.if_exists()?;
                AlterTypeAction::Rename {
                    if_exists,
                    renames: self.renames()?,
                }
            }
            _ => return Err(self.no_viable()),
        };
        Ok(AlterTypeStatement {
            if_exists,
            name,
            action,
        })
    }

    pub(crate) fn drop_type(&mut self) -> PResult<DropTypeStatement> {
        self.expect_kw(Kw::Drop)?;
        self.expect_kw(Kw::Type)?;
        let if_exists = self.if_exists()?;
        let name = self.user_type_name()?;
        Ok(DropTypeStatement { if_exists, name })
    }

    /// `indexIdent`.
    fn index_target(&mut self) -> PResult<IndexTarget> {
        let wrapped = self.la(2) == TokenKind::LParen;
        let make: Option<fn(Identifier) -> IndexTarget> = match self.la(1) {
            TokenKind::Keyword(Kw::Values) if wrapped => Some(IndexTarget::Values),
            TokenKind::Keyword(Kw::Keys) if wrapped => Some(IndexTarget::Keys),
            TokenKind::Keyword(Kw::Entries) => Some(IndexTarget::Entries),
            TokenKind::Keyword(Kw::Full) => Some(IndexTarget::Full),
            _ => None,
        };
        match make {
            Some(make) => {
                self.advance();
                self.expect(TokenKind::LParen)?;
                let column = self.cident()?;
                self.expect(TokenKind::RParen)?;
                Ok(make(column))
            }
            None => Ok(IndexTarget::Column(self.cident()?)),
        }
    }

    pub(crate) fn create_index(&mut self) -> PResult<CreateIndexStatement> {
        self.expect_kw(Kw::Create)?;
        let custom = self.eat_kw(Kw::Custom);
        self.expect_kw(Kw::Index)?;
        let if_not_exists = self.if_not_exists()?;
        let name = if is_ident(self.la(1)) || self.at(TokenKind::QMark) {
            Some(self.object_name("index")?)
        } else {
            None
        };
        self.expect_kw(Kw::On)?;
        let table = self.table_name()?;
        self.expect(TokenKind::LParen)?;
        let mut targets = Vec::new();
        if !self.at(TokenKind::RParen) {
            targets.push(self.index_target()?);
            while self.eat(TokenKind::Comma) {
                targets.push(self.index_target()?);
            }
        }
        self.expect(TokenKind::RParen)?;
        let using = if self.eat_kw(Kw::Using) {
            let tok = self.expect(TokenKind::StringLiteral)?;
            Some(super::string_literal_value(self.text(&tok)))
        } else {
            None
        };
        let mut properties: Vec<Property> = Vec::new();
        if self.eat_kw(Kw::With) {
            self.properties(&mut properties)?;
        }
        Ok(CreateIndexStatement {
            custom,
            if_not_exists,
            name,
            table,
            targets,
            using,
            properties,
        })
    }

    pub(crate) fn drop_index(&mut self) -> PResult<DropIndexStatement> {
        self.expect_kw(Kw::Drop)?;
        self.expect_kw(Kw::Index)?;
        let if_exists = self.if_exists()?;
        let name = self.index_name()?;
        Ok(DropIndexStatement { if_exists, name })
    }

    pub(crate) fn create_view(&mut self) -> PResult<CreateMaterializedViewStatement> {
        self.expect_kw(Kw::Create)?;
        self.expect_kw(Kw::Materialized)?;
        self.expect_kw(Kw::View)?;
        let if_not_exists = self.if_not_exists()?;
        let name = self.table_name()?;
        self.expect_kw(Kw::As)?;
        self.expect_kw(Kw::Select)?;
        let selection: Selection = self.selectors()?;
        self.expect_kw(Kw::From)?;
        let base_table = self.table_name()?;
        let where_clause = if self.eat_kw(Kw::Where) {
            self.where_clause()?
        } else {
            Vec::new()
        };
        let primary_key = self.primary_key_clause()?;
        let options = self.table_options(true)?;
        Ok(CreateMaterializedViewStatement {
            if_not_exists,
            name,
            selection,
            base_table,
            where_clause,
            primary_key,
            options,
        })
    }

    pub(crate) fn alter_view(&mut self) -> PResult<AlterMaterializedViewStatement> {
        self.expect_kw(Kw::Alter)?;
        self.expect_kw(Kw::Materialized)?;
        self.expect_kw(Kw::View)?;
        let if_exists = self.if_exists()?;
        let name = self.table_name()?;
        self.expect_kw(Kw::With)?;
        let mut properties = Vec::new();
        self.properties(&mut properties)?;
        Ok(AlterMaterializedViewStatement {
            if_exists,
            name,
            properties,
        })
    }

    pub(crate) fn drop_view(&mut self) -> PResult<DropMaterializedViewStatement> {
        self.expect_kw(Kw::Drop)?;
        self.expect_kw(Kw::Materialized)?;
        self.expect_kw(Kw::View)?;
        let if_exists = self.if_exists()?;
        let name = self.table_name()?;
        Ok(DropMaterializedViewStatement { if_exists, name })
    }
}
