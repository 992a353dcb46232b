//! The heap snapshot as compact arrays, and its streaming parser.
//!
//! Resident cost: per node 1 (type and detachedness) + 4 (name) + 4 (id) + 4 (self size, with a side table for the
//! rare sizes beyond 32 bits) + 4 (first edge) = 17 bytes; per edge 4 (target ordinal) + 4 (name) + 1 (type) = 9
//! bytes. The analysis adds its own arrays (see `analyze`). Arrays grow as data arrives, never past the header's
//! counts, so a header that lies about its counts cannot make the parser allocate more than the data it has read.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::json::Tokenizer;

/// Longest string accepted in the `strings` table (V8 caps names at 1024 characters; scripts' URLs and interned
/// source snippets stay far below this).
const MAX_STRING_BYTES: usize = 16 << 20;
/// Longest `snapshot` header accepted (it is a few hundred bytes in practice).
const MAX_HEADER_BYTES: usize = 1 << 20;
/// Types are kept in the low 6 bits of a byte, detachedness in the high 2.
const MAX_NODE_TYPES: usize = 64;
const TYPE_MASK: u8 = 0x3f;
/// Records between two looks at the cancel flag while parsing (a power of two: checked with a mask).
const CHECK_EVERY: usize = 1 << 20;
/// `self_size` values that do not fit in 32 bits are stored as this marker plus an entry in the side table.
const BIG_SIZE: u32 = u32::MAX;

/// Limits a caller sets before a parse; everything is checked against the header before large allocations.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// Refuse a snapshot whose header says the analysis needs more memory than this (see [`memory_estimate`]).
    pub budget_bytes: Option<u64>,
    /// The size of the (uncompressed, if known) input: a header claiming more nodes or edges than this many bytes
    /// could hold is refused before any allocation.
    pub input_bytes: Option<u64>,
    /// Cancels the parse (checked every million records) and shows its step.
    pub control: crate::control::Control,
}

/// Bytes of memory the parse plus the full analysis take at their peak for a snapshot with these header counts.
/// Measured (benchmark snapshots): 41 bytes per node and 13 per edge stay resident, the dominator computation adds
/// 36 per node while it runs, and strings, class tables and the report take a few percent more; this estimate adds
/// a margin on top, so a file it admits fits.
pub fn memory_estimate(node_count: u64, edge_count: u64) -> u64 {
    node_count * 95 + edge_count * 15 + (64 << 20)
}

/// Node type names V8 writes; the parser resolves every type by name, unknown ones are kept by index.
#[derive(Debug, Clone, Default)]
pub struct NodeTypes {
    pub hidden: Option<u8>,
    pub array: Option<u8>,
    pub string: Option<u8>,
    pub object: Option<u8>,
    pub code: Option<u8>,
    pub closure: Option<u8>,
    pub regexp: Option<u8>,
    pub number: Option<u8>,
    pub native: Option<u8>,
    pub synthetic: Option<u8>,
    pub cons_string: Option<u8>,
    pub sliced_string: Option<u8>,
}

#[derive(Debug, Clone, Default)]
pub struct EdgeTypes {
    pub context: Option<u8>,
    pub element: Option<u8>,
    pub property: Option<u8>,
    pub internal: Option<u8>,
    pub hidden: Option<u8>,
    pub shortcut: Option<u8>,
    pub weak: Option<u8>,
}

/// Where a closure or an object's constructor was defined (0-based line and column, as V8 writes them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub ordinal: u32,
    pub script_id: u32,
    pub line: u32,
    pub column: u32,
}

/// One parsed heap snapshot. Nodes are addressed by ordinal (position in the `nodes` array), edges by ordinal too.
#[derive(Debug, Default)]
pub struct HeapSnapshot {
    pub node_type_names: Vec<String>,
    pub edge_type_names: Vec<String>,
    pub node_types: NodeTypes,
    pub edge_types: EdgeTypes,
    pub extra_native_bytes: u64,
    pub root: u32,
    pub(crate) strings: Vec<Box<str>>,
    /// Type index in the low 6 bits, detachedness (0 unknown, 1 attached, 2 detached) in the high 2.
    pub(crate) kind: Vec<u8>,
    pub(crate) name: Vec<u32>,
    pub(crate) id: Vec<u32>,
    pub(crate) self_size: Vec<u32>,
    pub(crate) big_sizes: HashMap<u32, u64>,
    pub(crate) first_edge: Vec<u32>,
    pub(crate) edge_to: Vec<u32>,
    pub(crate) edge_name: Vec<u32>,
    pub(crate) edge_type: Vec<u8>,
    /// Sorted by ordinal.
    pub(crate) locations: Vec<Location>,
}

#[derive(Deserialize)]
struct RawHeader {
    meta: RawMeta,
    node_count: u64,
    edge_count: u64,
    #[serde(default)]
    extra_native_bytes: Option<f64>,
    #[serde(default)]
    root_index: Option<u64>,
}

#[derive(Deserialize)]
struct RawMeta {
    node_fields: Vec<String>,
    node_types: Vec<serde_json::Value>,
    edge_fields: Vec<String>,
    edge_types: Vec<serde_json::Value>,
    #[serde(default)]
    location_fields: Vec<String>,
}

/// Field positions resolved by name from `snapshot.meta`.
struct Layout {
    node_fields: usize,
    n_type: usize,
    n_name: usize,
    n_id: usize,
    n_self: usize,
    n_edges: usize,
    n_detached: Option<usize>,
    edge_fields: usize,
    e_type: usize,
    e_name: usize,
    e_to: usize,
    loc_fields: usize,
    l_object: Option<usize>,
    l_script: Option<usize>,
    l_line: Option<usize>,
    l_column: Option<usize>,
}

fn field(fields: &[String], name: &str, what: &str) -> Result<usize> {
    fields.iter().position(|f| f == name).ok_or_else(|| Error::Header(format!("{what} has no '{name}' field")))
}

/// The list of type names for the `type` field. Node 24.0 writes a `node_types` list whose length disagrees with
/// `node_fields`, so take the entry at the type field's position if it is a list, else the first list there is.
fn type_names(lists: &[serde_json::Value], at: usize, what: &str) -> Result<Vec<String>> {
    let list = match lists.get(at) {
        Some(serde_json::Value::Array(a)) => a,
        _ => lists
            .iter()
            .find_map(|v| v.as_array())
            .ok_or_else(|| Error::Header(format!("{what} lists no type names")))?,
    };
    list.iter()
        .map(|v| {
            v.as_str().map(str::to_owned).ok_or_else(|| Error::Header(format!("{what} has a non-string type name")))
        })
        .collect()
}

fn type_index(names: &[String], name: &str) -> Option<u8> {
    names.iter().position(|n| n == name).map(|i| i as u8)
}

/// Reads a flat integer array as records of `fields` numbers each and hands every complete record to `sink`.
/// More records than `max` (the header's count) are an error, and `control`'s cancel flag is looked at every
/// `CHECK_EVERY` records.
fn read_records<R: BufRead>(
    t: &mut Tokenizer<R>,
    context: &'static str,
    fields: usize,
    max: usize,
    control: &crate::control::Control,
    mut sink: impl FnMut(&[u64]) -> Result<()>,
) -> Result<()> {
    const MAX_FIELDS: usize = 16;
    if fields == 0 || fields > MAX_FIELDS {
        return Err(Error::Header(format!("{fields} fields per record in {context} are not supported")));
    }
    let mut cur = [0u64; MAX_FIELDS];
    let mut f = 0;
    let mut count = 0usize;
    t.read_uint_array(context, |v| {
        cur[f] = v;
        f += 1;
        if f < fields {
            return Ok(());
        }
        f = 0;
        if count & (CHECK_EVERY - 1) == 0 {
            control.check()?;
        }
        if count >= max {
            return Err(Error::Inconsistent(format!("more {context} records than the header allows ({max})")));
        }
        count += 1;
        sink(&cur[..fields])
    })?;
    if f != 0 {
        return Err(Error::Inconsistent(format!("the {context} array's length is not a multiple of {fields} fields")));
    }
    Ok(())
}

/// Grows `v` so one more element fits, never beyond `expected` elements in total.
fn make_room<T>(v: &mut Vec<T>, expected: usize) {
    if v.len() == v.capacity() {
        let step = v.len().max(1 << 16).min(expected.saturating_sub(v.len())).max(1);
        v.reserve_exact(step);
    }
}

impl HeapSnapshot {
    /// Parses a snapshot from plain or gzip-compressed JSON (detected by its magic bytes). Gzip is inflated on a
    /// second thread, overlapped with parsing.
    pub fn from_reader(reader: impl Read + Send + 'static, options: &ParseOptions) -> Result<HeapSnapshot> {
        let mut buffered = BufReader::with_capacity(1 << 16, reader);
        let magic = buffered.fill_buf()?;
        if magic.is_empty() {
            return Err(Error::Empty);
        }
        let result = if magic.starts_with(&[0x1f, 0x8b]) {
            Self::parse(crate::inflate::Inflater::spawn(buffered), options)
        } else {
            Self::parse(buffered, options)
        };
        // A gzip stream that ends early is a truncated file, like a JSON text that does.
        result.map_err(|e| match e {
            Error::Io(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => Error::TruncatedGzip,
            other => other,
        })
    }

    /// Parses a snapshot from plain JSON, in the calling thread.
    pub fn parse(reader: impl BufRead, options: &ParseOptions) -> Result<HeapSnapshot> {
        options.control.enter(crate::control::Step::Parsing)?;
        let mut t = Tokenizer::new(reader);
        match t.peek()? {
            None => return Err(Error::Empty),
            Some(b'{') => {}
            Some(_) => {
                return Err(Error::Syntax { offset: t.offset(), message: "a heap snapshot is a JSON object".into() })
            }
        }
        t.expect(b'{', "the top-level object")?;
        let mut snap = HeapSnapshot::default();
        let mut layout: Option<Layout> = None;
        let mut counts = (0usize, 0usize);
        let (mut have_nodes, mut have_edges, mut have_strings) = (false, false, false);
        let mut root_index = None;
        if t.peek()? == Some(b'}') {
            return Err(Error::Header("the snapshot has no 'snapshot' header".into()));
        }
        loop {
            let key = t.read_string(256, "a top-level key")?;
            t.expect(b':', "the top-level object")?;
            match key.as_str() {
                "snapshot" => {
                    let raw = t.capture_value(MAX_HEADER_BYTES, "the snapshot header")?;
                    let header: RawHeader = serde_json::from_slice(&raw).map_err(|e| Error::Header(e.to_string()))?;
                    let (l, c) = snap.apply_header(header, options, &mut root_index)?;
                    layout = Some(l);
                    counts = c;
                }
                "nodes" => {
                    let l = layout
                        .as_ref()
                        .ok_or_else(|| Error::Header("'nodes' comes before the 'snapshot' header".into()))?;
                    snap.read_nodes(&mut t, l, counts.0, counts.1, &options.control)?;
                    have_nodes = true;
                }
                "edges" => {
                    let l = layout
                        .as_ref()
                        .ok_or_else(|| Error::Header("'edges' comes before the 'snapshot' header".into()))?;
                    if !have_nodes {
                        return Err(Error::Inconsistent("'edges' comes before 'nodes'".into()));
                    }
                    snap.read_edges(&mut t, l, counts.1, &options.control)?;
                    have_edges = true;
                }
                "locations" => {
                    let l = layout
                        .as_ref()
                        .ok_or_else(|| Error::Header("'locations' comes before the 'snapshot' header".into()))?;
                    if !have_nodes {
                        return Err(Error::Inconsistent("'locations' comes before 'nodes'".into()));
                    }
                    snap.read_locations(&mut t, l, &options.control)?;
                }
                "strings" => {
                    snap.read_strings(&mut t)?;
                    have_strings = true;
                }
                _ => t.skip_value("an unused top-level member")?,
            }
            match t.next_byte("the top-level object")? {
                b',' => continue,
                b'}' => break,
                other => {
                    return Err(Error::Syntax {
                        offset: t.offset(),
                        message: format!("expected ',' or '}}' after a top-level member, found '{}'", other as char),
                    })
                }
            }
        }
        if layout.is_none() {
            return Err(Error::Header("the snapshot has no 'snapshot' header".into()));
        }
        for (present, what) in [(have_nodes, "nodes"), (have_edges, "edges"), (have_strings, "strings")] {
            if !present {
                return Err(Error::Inconsistent(format!("the snapshot has no '{what}' array")));
            }
        }
        snap.root = match root_index {
            Some(index) => {
                let fields = layout.as_ref().map_or(1, |l| l.node_fields) as u64;
                let ordinal = index / fields;
                if index % fields != 0 || ordinal >= snap.node_count() as u64 {
                    return Err(Error::Inconsistent(format!("root_index {index} is not a node")));
                }
                ordinal as u32
            }
            None => 0,
        };
        snap.check_names()?;
        Ok(snap)
    }

    fn apply_header(
        &mut self,
        h: RawHeader,
        options: &ParseOptions,
        root_index: &mut Option<u64>,
    ) -> Result<(Layout, (usize, usize))> {
        let m = &h.meta;
        let n_type = field(&m.node_fields, "type", "node_fields")?;
        let e_type = field(&m.edge_fields, "type", "edge_fields")?;
        let loc = |name: &str| m.location_fields.iter().position(|f| f == name);
        let layout = Layout {
            node_fields: m.node_fields.len(),
            n_type,
            n_name: field(&m.node_fields, "name", "node_fields")?,
            n_id: field(&m.node_fields, "id", "node_fields")?,
            n_self: field(&m.node_fields, "self_size", "node_fields")?,
            n_edges: field(&m.node_fields, "edge_count", "node_fields")?,
            n_detached: m.node_fields.iter().position(|f| f == "detachedness"),
            edge_fields: m.edge_fields.len(),
            e_type,
            e_name: field(&m.edge_fields, "name_or_index", "edge_fields")?,
            e_to: field(&m.edge_fields, "to_node", "edge_fields")?,
            loc_fields: m.location_fields.len(),
            l_object: loc("object_index"),
            l_script: loc("script_id"),
            l_line: loc("line"),
            l_column: loc("column"),
        };
        self.node_type_names = type_names(&m.node_types, n_type, "node_types")?;
        self.edge_type_names = type_names(&m.edge_types, e_type, "edge_types")?;
        if self.node_type_names.len() > MAX_NODE_TYPES || self.edge_type_names.len() > 255 {
            return Err(Error::Header("too many node or edge types".into()));
        }
        let names = &self.node_type_names;
        self.node_types = NodeTypes {
            hidden: type_index(names, "hidden"),
            array: type_index(names, "array"),
            string: type_index(names, "string"),
            object: type_index(names, "object"),
            code: type_index(names, "code"),
            closure: type_index(names, "closure"),
            regexp: type_index(names, "regexp"),
            number: type_index(names, "number"),
            native: type_index(names, "native"),
            synthetic: type_index(names, "synthetic"),
            cons_string: type_index(names, "concatenated string"),
            sliced_string: type_index(names, "sliced string"),
        };
        let names = &self.edge_type_names;
        self.edge_types = EdgeTypes {
            context: type_index(names, "context"),
            element: type_index(names, "element"),
            property: type_index(names, "property"),
            internal: type_index(names, "internal"),
            hidden: type_index(names, "hidden"),
            shortcut: type_index(names, "shortcut"),
            weak: type_index(names, "weak"),
        };
        self.extra_native_bytes = h.extra_native_bytes.filter(|b| b.is_finite() && *b > 0.0).map_or(0, |b| b as u64);
        *root_index = h.root_index;
        if h.node_count == 0 {
            return Err(Error::Inconsistent("the header says the snapshot has no nodes".into()));
        }
        if h.node_count >= u32::MAX as u64 || h.edge_count >= u32::MAX as u64 {
            return Err(Error::Inconsistent(format!(
                "{} nodes and {} edges: more than 4 billion are not supported",
                h.node_count, h.edge_count
            )));
        }
        if let Some(input) = options.input_bytes {
            // Every number takes at least one digit and one separator.
            let least = 2 * (h.node_count * layout.node_fields as u64 + h.edge_count * layout.edge_fields as u64);
            if least > input {
                return Err(Error::Inconsistent(format!(
                    "the header claims {} nodes and {} edges, which cannot fit in {input} bytes",
                    h.node_count, h.edge_count
                )));
            }
        }
        if let Some(budget) = options.budget_bytes {
            let needed = memory_estimate(h.node_count, h.edge_count);
            if needed > budget {
                return Err(Error::OverBudget { needed_bytes: needed, budget_bytes: budget });
            }
        }
        Ok((layout, (h.node_count as usize, h.edge_count as usize)))
    }

    fn read_nodes<R: BufRead>(
        &mut self,
        t: &mut Tokenizer<R>,
        l: &Layout,
        node_count: usize,
        edge_count: usize,
        control: &crate::control::Control,
    ) -> Result<()> {
        let mut edges_so_far: u64 = 0;
        let type_count = self.node_type_names.len() as u64;
        make_room(&mut self.first_edge, node_count + 1);
        self.first_edge.push(0);
        read_records(t, "nodes", l.node_fields, node_count, control, |cur| {
            let ordinal = self.kind.len();
            let ty = cur[l.n_type];
            // An unknown type index is kept as "unknown" so a type added by a newer V8 does not stop the parse.
            let ty = if ty < type_count { ty as u8 } else { TYPE_MASK };
            let detached = l.n_detached.map_or(0, |i| cur[i].min(3) as u8);
            let u32_field = |i: usize, what: &str| {
                u32::try_from(cur[i])
                    .map_err(|_| Error::Inconsistent(format!("node {ordinal}: {what} {} exceeds 32 bits", cur[i])))
            };
            let name = u32_field(l.n_name, "name")?;
            let id = u32_field(l.n_id, "id")?;
            let edges = cur[l.n_edges];
            edges_so_far += edges;
            if edges_so_far > edge_count as u64 {
                return Err(Error::Inconsistent(format!(
                    "the nodes' edge counts add up to more than the header's edge_count {edge_count}"
                )));
            }
            make_room(&mut self.kind, node_count);
            make_room(&mut self.name, node_count);
            make_room(&mut self.id, node_count);
            make_room(&mut self.self_size, node_count);
            make_room(&mut self.first_edge, node_count + 1);
            self.kind.push(ty | (detached << 6));
            self.name.push(name);
            self.id.push(id);
            let size = cur[l.n_self];
            if size >= BIG_SIZE as u64 {
                self.big_sizes.insert(ordinal as u32, size);
                self.self_size.push(BIG_SIZE);
            } else {
                self.self_size.push(size as u32);
            }
            self.first_edge.push(edges_so_far as u32);
            Ok(())
        })?;
        if self.kind.len() != node_count {
            return Err(Error::Inconsistent(format!("{} nodes, but the header says {node_count}", self.kind.len())));
        }
        if edges_so_far != edge_count as u64 {
            return Err(Error::Inconsistent(format!(
                "the nodes' edge counts add up to {edges_so_far}, the header says {edge_count}"
            )));
        }
        Ok(())
    }

    fn read_edges<R: BufRead>(
        &mut self,
        t: &mut Tokenizer<R>,
        l: &Layout,
        edge_count: usize,
        control: &crate::control::Control,
    ) -> Result<()> {
        let node_fields = l.node_fields as u64;
        let node_count = self.kind.len() as u64;
        read_records(t, "edges", l.edge_fields, edge_count, control, |cur| {
            let ordinal = self.edge_to.len();
            let to = cur[l.e_to];
            if to % node_fields != 0 || to / node_fields >= node_count {
                return Err(Error::Inconsistent(format!("edge {ordinal} points at {to}, which is not a node")));
            }
            let name = u32::try_from(cur[l.e_name])
                .map_err(|_| Error::Inconsistent(format!("edge {ordinal}: name exceeds 32 bits")))?;
            make_room(&mut self.edge_to, edge_count);
            make_room(&mut self.edge_name, edge_count);
            make_room(&mut self.edge_type, edge_count);
            self.edge_to.push((to / node_fields) as u32);
            self.edge_name.push(name);
            self.edge_type.push(cur[l.e_type].min(255) as u8);
            Ok(())
        })?;
        if self.edge_to.len() != edge_count {
            return Err(Error::Inconsistent(format!("{} edges, but the header says {edge_count}", self.edge_to.len())));
        }
        Ok(())
    }

    fn read_locations<R: BufRead>(
        &mut self,
        t: &mut Tokenizer<R>,
        l: &Layout,
        control: &crate::control::Control,
    ) -> Result<()> {
        let (Some(obj), Some(script), Some(line), Some(column)) = (l.l_object, l.l_script, l.l_line, l.l_column) else {
            return t.skip_value("locations");
        };
        let node_fields = l.node_fields as u64;
        let node_count = self.kind.len();
        let mut sorted = true;
        // At most one location per node: more would mean the array is not what V8 writes.
        read_records(t, "locations", l.loc_fields, node_count, control, |cur| {
            let index = cur[obj];
            if index % node_fields != 0 || index / node_fields >= node_count as u64 {
                return Err(Error::Inconsistent(format!("a location names {index}, which is not a node")));
            }
            let small = |v: u64| v.min(u32::MAX as u64) as u32;
            let loc = Location {
                ordinal: (index / node_fields) as u32,
                script_id: small(cur[script]),
                line: small(cur[line]),
                column: small(cur[column]),
            };
            if self.locations.last().is_some_and(|last| last.ordinal >= loc.ordinal) {
                sorted = false;
            }
            self.locations.push(loc);
            Ok(())
        })?;
        if !sorted {
            // Later entries win, as in DevTools' map.
            self.locations.reverse();
            self.locations.sort_by_key(|l| l.ordinal);
            self.locations.dedup_by_key(|l| l.ordinal);
        }
        self.locations.shrink_to_fit();
        Ok(())
    }

    fn read_strings<R: BufRead>(&mut self, t: &mut Tokenizer<R>) -> Result<()> {
        t.expect(b'[', "strings")?;
        if t.peek()? == Some(b']') {
            t.expect(b']', "strings")?;
            return Ok(());
        }
        loop {
            self.strings.push(t.read_string(MAX_STRING_BYTES, "strings")?.into_boxed_str());
            match t.next_byte("strings")? {
                b',' => continue,
                b']' => break,
                other => {
                    return Err(Error::Syntax {
                        offset: t.offset(),
                        message: format!("expected ',' or ']' in strings, found '{}'", other as char),
                    })
                }
            }
        }
        self.strings.shrink_to_fit();
        Ok(())
    }

    /// Every name that is a string index must name a string.
    fn check_names(&self) -> Result<()> {
        let count = self.strings.len() as u32;
        if let Some(ordinal) = self.name.iter().position(|&n| n >= count) {
            return Err(Error::Inconsistent(format!(
                "node {ordinal} names string {}, but there are {count}",
                self.name[ordinal]
            )));
        }
        let (element, hidden) = (self.edge_types.element, self.edge_types.hidden);
        for (e, (&name, &ty)) in self.edge_name.iter().zip(&self.edge_type).enumerate() {
            let numeric = Some(ty) == element || Some(ty) == hidden;
            if !numeric && name >= count {
                return Err(Error::Inconsistent(format!("edge {e} names string {name}, but there are {count}")));
            }
        }
        Ok(())
    }

    pub fn node_count(&self) -> usize {
        self.kind.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edge_to.len()
    }

    pub fn string(&self, index: u32) -> &str {
        self.strings.get(index as usize).map_or("", |s| s)
    }

    pub fn node_type(&self, n: u32) -> u8 {
        self.kind[n as usize] & TYPE_MASK
    }

    pub fn type_name(&self, n: u32) -> &str {
        self.node_type_names.get(self.node_type(n) as usize).map_or("unknown", String::as_str)
    }

    pub fn is_type(&self, n: u32, ty: Option<u8>) -> bool {
        Some(self.node_type(n)) == ty
    }

    pub fn detachedness(&self, n: u32) -> u8 {
        self.kind[n as usize] >> 6
    }

    pub(crate) fn set_detachedness(&mut self, n: u32, state: u8) {
        let k = &mut self.kind[n as usize];
        *k = (*k & TYPE_MASK) | (state.min(3) << 6);
    }

    pub fn name(&self, n: u32) -> &str {
        self.string(self.name[n as usize])
    }

    pub fn id(&self, n: u32) -> u32 {
        self.id[n as usize]
    }

    pub fn self_size(&self, n: u32) -> u64 {
        match self.self_size[n as usize] {
            BIG_SIZE => self.big_sizes.get(&n).copied().unwrap_or(BIG_SIZE as u64),
            s => s as u64,
        }
    }

    pub(crate) fn set_self_size(&mut self, n: u32, size: u64) {
        if size >= BIG_SIZE as u64 {
            self.big_sizes.insert(n, size);
            self.self_size[n as usize] = BIG_SIZE;
        } else {
            self.big_sizes.remove(&n);
            self.self_size[n as usize] = size as u32;
        }
    }

    /// The edge ordinals of node `n`.
    pub fn edges(&self, n: u32) -> std::ops::Range<usize> {
        self.first_edge[n as usize] as usize..self.first_edge[n as usize + 1] as usize
    }

    pub fn edge_to(&self, e: usize) -> u32 {
        self.edge_to[e]
    }

    pub fn edge_type(&self, e: usize) -> u8 {
        self.edge_type[e]
    }

    pub fn edge_is(&self, e: usize, ty: Option<u8>) -> bool {
        Some(self.edge_type[e]) == ty
    }

    /// The edge's name as DevTools shows it: a property name, or the index of an element or hidden edge.
    pub fn edge_name(&self, e: usize) -> String {
        let ty = Some(self.edge_type[e]);
        if ty == self.edge_types.element || ty == self.edge_types.hidden {
            return self.edge_name[e].to_string();
        }
        self.string(self.edge_name[e]).to_owned()
    }

    /// The edge's name as a string-table entry, for edge types whose names are strings.
    pub fn edge_name_str(&self, e: usize) -> Option<&str> {
        let ty = Some(self.edge_type[e]);
        if ty == self.edge_types.element || ty == self.edge_types.hidden {
            return None;
        }
        Some(self.string(self.edge_name[e]))
    }

    pub fn location(&self, n: u32) -> Option<Location> {
        self.locations.binary_search_by_key(&n, |l| l.ordinal).ok().map(|i| self.locations[i])
    }

    /// The node ordinal with this id, if any (a linear scan: ids are not indexed).
    pub fn find_id(&self, id: u32) -> Option<u32> {
        self.id.iter().position(|&i| i == id).map(|p| p as u32)
    }

    /// Bytes held by the parsed arrays (for the figures in the report).
    pub fn resident_bytes(&self) -> (u64, u64) {
        let nodes = self.kind.capacity()
            + 4 * (self.name.capacity() + self.id.capacity() + self.self_size.capacity() + self.first_edge.capacity());
        let edges = 4 * (self.edge_to.capacity() + self.edge_name.capacity()) + self.edge_type.capacity();
        (nodes as u64, edges as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::testing::{snapshot_json, N};

    fn parse(json: &str) -> Result<HeapSnapshot> {
        HeapSnapshot::parse(json.as_bytes(), &ParseOptions::default())
    }

    fn small() -> String {
        snapshot_json(&[
            N("synthetic", "", 0, vec![("shortcut", "global", 1)]),
            N("object", "Window", 4294967396, vec![("property", "a", 2), ("element", "7", 2)]),
            N("string", "hello", 16, vec![]),
        ])
    }

    #[test]
    fn a_small_snapshot_parses_into_compact_arrays() {
        let s = parse(&small()).unwrap();
        assert_eq!((s.node_count(), s.edge_count()), (3, 3));
        assert_eq!(s.name(1), "Window");
        assert_eq!(s.self_size(1), 4294967396, "self sizes beyond 32 bits survive");
        assert_eq!(s.type_name(2), "string");
        assert_eq!(s.edges(1), 1..3);
        assert_eq!((s.edge_to(1), s.edge_name(1), s.edge_name(2)), (2, "a".to_owned(), "7".to_owned()));
    }

    #[test]
    fn six_node_fields_and_five_location_fields_are_read_by_name() {
        let json = r#"{"snapshot":{"meta":{"node_fields":["type","name","id","self_size","edge_count","detachedness"],
            "node_types":[["hidden","object","synthetic"],"string","number","number","number","number","number"],
            "edge_fields":["type","name_or_index","to_node"],"edge_types":[["context","element","property","internal","hidden","shortcut","weak"],"string_or_number","node"],
            "location_fields":["object_index","script_id","script_object_index","line","column"]},
            "node_count":2,"edge_count":1,"extra_native_bytes":1000},
            "nodes":[2,0,1,0,1,0, 1,1,3,40,0,2],"edges":[2,1,6],"locations":[6,9,0,12,4],"strings":["<dummy>","Foo"]}"#;
        let s = parse(json).unwrap();
        assert_eq!(s.extra_native_bytes, 1000);
        assert_eq!(s.detachedness(1), 2);
        assert_eq!(s.location(1), Some(Location { ordinal: 1, script_id: 9, line: 12, column: 4 }));
    }

    #[test]
    fn truncated_empty_and_inconsistent_inputs_are_typed_errors() {
        let good = small();
        assert!(matches!(parse(""), Err(Error::Empty)));
        for cut in [1, 30, good.find("\"nodes\"").unwrap() + 12, good.find("\"strings\"").unwrap() + 14, good.len() - 1]
        {
            let err = parse(&good[..cut]).unwrap_err();
            assert!(matches!(err, Error::Truncated { .. } | Error::Syntax { .. }), "cut at {cut}: {err}");
        }
        let lying = good.replacen("\"node_count\":3", "\"node_count\":4", 1);
        assert!(matches!(parse(&lying), Err(Error::Inconsistent(_))));
        let huge = good.replacen("\"node_count\":3", "\"node_count\":4000000000", 1);
        assert!(matches!(parse(&huge), Err(Error::Inconsistent(_))));
        let bad_target = good.replacen("2,4,14", "2,4,15", 1);
        assert!(matches!(parse(&bad_target), Err(Error::Inconsistent(_))), "to_node not a multiple of the field count");
        let opts = ParseOptions { budget_bytes: Some(1000), ..ParseOptions::default() };
        assert!(matches!(HeapSnapshot::parse(good.as_bytes(), &opts), Err(Error::OverBudget { .. })));
        let opts = ParseOptions { input_bytes: Some(10), ..ParseOptions::default() };
        assert!(matches!(HeapSnapshot::parse(good.as_bytes(), &opts), Err(Error::Inconsistent(_))));
        let cancelled = ParseOptions::default();
        cancelled.control.cancel();
        assert!(matches!(HeapSnapshot::parse(good.as_bytes(), &cancelled), Err(Error::Cancelled)));
        let parsed = parse(&good).unwrap();
        assert!(matches!(crate::heap::HeapAnalysis::with_control(parsed, &cancelled.control), Err(Error::Cancelled)));
        let opts = ParseOptions { input_bytes: Some(10), ..ParseOptions::default() };
        assert!(matches!(HeapSnapshot::parse(good.as_bytes(), &opts), Err(Error::Inconsistent(_))));
    }

    #[test]
    fn gzip_input_is_detected_and_inflated() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(small().as_bytes()).unwrap();
        let bytes = gz.finish().unwrap();
        let s = HeapSnapshot::from_reader(std::io::Cursor::new(bytes.clone()), &ParseOptions::default()).unwrap();
        assert_eq!(s.node_count(), 3);
        let cut = bytes[..bytes.len() / 2].to_vec();
        let err = HeapSnapshot::from_reader(std::io::Cursor::new(cut), &ParseOptions::default()).unwrap_err();
        assert!(matches!(err, Error::TruncatedGzip | Error::Truncated { .. }), "{err}");
    }
}

#[cfg(test)]
mod mutation_tests {
    use super::*;
    use crate::heap::testing::{snapshot_json, N};
    use crate::heap::HeapAnalysis;

    /// Every single-byte change of a small snapshot parses to a typed error or to a graph the analysis takes
    /// without panicking (a deterministic stand-in for fuzzing in the unit tests).
    #[test]
    fn mutated_snapshots_never_panic() {
        let json = snapshot_json(&[
            N("synthetic", "", 0, vec![("shortcut", "global", 1), ("element", "1", 3)]),
            N("object", "global", 40, vec![("property", "cache", 2), ("weak", "w", 3)]),
            N("object", "Map", 32, vec![("internal", "table", 4), ("property", "self", 2)]),
            N("synthetic", "(GC roots)", 0, vec![("element", "0", 4)]),
            N("array", "", 64, vec![("internal", "1", 1), ("context", "x", 5)]),
            N("closure", "f", 56, vec![("internal", "context", 4)]),
        ]);
        let bytes = json.as_bytes();
        let replacements = [b'0', b'9', b',', b']', b'"', b'{', b' ', b'-', b'\\'];
        let mut parsed = 0;
        for i in 0..bytes.len() {
            for &r in &replacements[(i % 3)..(i % 3) + 3] {
                if bytes[i] == r {
                    continue;
                }
                let mut m = bytes.to_vec();
                m[i] = r;
                if let Ok(s) = HeapSnapshot::parse(&m[..], &ParseOptions::default()) {
                    let a = HeapAnalysis::new(s);
                    let _ = a.report(&crate::heap::ReportLimits::default());
                    parsed += 1;
                }
            }
        }
        assert!(parsed > 0, "some mutations (digits) still parse and get analysed");
    }
}
