//! A minimal ONNX model writer: just enough protobuf to describe a feed-forward
//! convolutional network for OpenCV's ONNX importer.
//!
//! Field numbers follow `onnx.proto` (ModelProto, GraphProto, NodeProto, AttributeProto,
//! TensorProto, ValueInfoProto).

/// Protobuf wire encoding helpers.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u32) {
        self.varint(((field << 3) | wire) as u64);
    }
    fn int(&mut self, field: u32, v: i64) {
        self.key(field, 0);
        self.varint(v as u64);
    }
    fn bytes(&mut self, field: u32, data: &[u8]) {
        self.key(field, 2);
        self.varint(data.len() as u64);
        self.0.extend_from_slice(data);
    }
    fn string(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }
    fn message(&mut self, field: u32, m: Message) {
        self.bytes(field, &m.0);
    }
    fn float(&mut self, field: u32, v: f32) {
        self.key(field, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// A node attribute.
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Str(&'static str),
}

/// A float tensor with its shape.
pub struct Tensor {
    pub dims: Vec<i64>,
    pub data: Vec<f32>,
}

/// Builds an ONNX graph node by node.
#[derive(Default)]
pub struct GraphBuilder {
    nodes: Vec<Message>,
    initializers: Vec<Message>,
    counter: usize,
}

impl GraphBuilder {
    /// A fresh, unique value name with the given prefix.
    pub fn fresh(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_{}", self.counter)
    }

    /// Adds a constant tensor and returns its name.
    pub fn constant(&mut self, prefix: &str, t: Tensor) -> String {
        let name = self.fresh(prefix);
        let mut m = Message::default();
        for d in &t.dims {
            m.int(1, *d);
        }
        m.int(2, 1); // FLOAT
        m.string(8, &name);
        let mut raw = Vec::with_capacity(t.data.len() * 4);
        for v in &t.data {
            raw.extend_from_slice(&v.to_le_bytes());
        }
        m.bytes(9, &raw);
        self.initializers.push(m);
        name
    }

    /// Adds a node and returns the name of its single output.
    pub fn node(&mut self, op: &str, inputs: &[&str], attrs: &[(&str, Attr)]) -> String {
        let out = self.fresh(&op.to_lowercase());
        let mut m = Message::default();
        for i in inputs {
            m.string(1, i);
        }
        m.string(2, &out);
        m.string(3, &out);
        m.string(4, op);
        for (name, attr) in attrs {
            let mut a = Message::default();
            a.string(1, name);
            match attr {
                Attr::Int(v) => {
                    a.int(3, *v);
                    a.int(20, 2);
                }
                Attr::Ints(vs) => {
                    for v in vs {
                        a.int(8, *v);
                    }
                    a.int(20, 7);
                }
                Attr::Float(v) => {
                    a.float(2, *v);
                    a.int(20, 1);
                }
                Attr::Str(s) => {
                    a.string(4, s);
                    a.int(20, 3);
                }
            }
            m.message(5, a);
        }
        self.nodes.push(m);
        out
    }

    /// Serialises the model with one float input and one float output.
    pub fn finish(self, input: (&str, &[i64]), output: (&str, &[i64]), opset: i64) -> Vec<u8> {
        fn value_info(name: &str, dims: &[i64]) -> Message {
            let mut shape = Message::default();
            for d in dims {
                let mut dim = Message::default();
                dim.int(1, *d);
                shape.message(1, dim);
            }
            let mut tensor_type = Message::default();
            tensor_type.int(1, 1);
            tensor_type.message(2, shape);
            let mut ty = Message::default();
            ty.message(1, tensor_type);
            let mut v = Message::default();
            v.string(1, name);
            v.message(2, ty);
            v
        }
        let mut graph = Message::default();
        for n in self.nodes {
            graph.message(1, n);
        }
        graph.string(2, "rollcall");
        for t in self.initializers {
            graph.message(5, t);
        }
        graph.message(11, value_info(input.0, input.1));
        graph.message(12, value_info(output.0, output.1));

        let mut model = Message::default();
        model.int(1, 4); // ir_version
        model.string(2, "rollcall");
        model.message(7, graph);
        let mut opset_id = Message::default();
        opset_id.string(1, "");
        opset_id.int(2, opset);
        model.message(8, opset_id);
        model.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_use_seven_bits_per_byte() {
        let mut m = Message::default();
        m.varint(300);
        assert_eq!(m.0, vec![0xac, 0x02]);
    }

    #[test]
    fn node_outputs_are_unique() {
        let mut g = GraphBuilder::default();
        let a = g.node("Relu", &["x"], &[]);
        let b = g.node("Relu", &[&a], &[]);
        assert_ne!(a, b);
    }
}
