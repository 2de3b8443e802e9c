//! The named f32 weights (initializers) of an ONNX model file, read with `prost` from the parts
//! of the ONNX protobuf schema that hold them; the graph itself is not interpreted.

use std::collections::HashMap;

use prost::Message;

/// `onnx.ModelProto`, only its graph.
#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

/// `onnx.GraphProto`, only its nodes and initializers.
#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

/// `onnx.NodeProto`, only its inputs and operator.
#[derive(Clone, PartialEq, Message)]
pub(crate) struct NodeProto {
    /// Names of the node's inputs, in the operator's order.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// The operator, e.g. `LSTM`.
    #[prost(string, tag = "4")]
    pub op_type: String,
}

/// `onnx.TensorProto`: shape, element type, name and data.
#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

/// `TensorProto.DataType.FLOAT`.
const FLOAT: i32 = 1;

/// A weight tensor: its shape and its values, row-major.
#[derive(Clone, Debug)]
pub(crate) struct Tensor {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

/// What an ONNX model file holds of use here.
#[derive(Debug)]
pub(crate) struct Weights {
    /// Every f32 initializer, by name.
    pub tensors: HashMap<String, Tensor>,
    /// The graph's nodes, in order.
    pub nodes: Vec<NodeProto>,
}

/// Reads an ONNX model's f32 initializers and nodes. Initializers of other element types are
/// skipped; a tensor whose data does not match its shape is an error.
pub(crate) fn read(bytes: &[u8]) -> Result<Weights, String> {
    let model = ModelProto::decode(bytes).map_err(|e| format!("not an ONNX model: {e}"))?;
    let graph = model.graph.ok_or("the ONNX model has no graph")?;
    let mut out = HashMap::new();
    for t in graph.initializer {
        if t.data_type != FLOAT {
            continue;
        }
        let dims = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("{}: negative dimension", t.name)))
            .collect::<Result<Vec<_>, _>>()?;
        let count = dims
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| format!("{}: shape overflows", t.name))?;
        let data = if t.raw_data.is_empty() {
            t.float_data
        } else {
            if t.raw_data.len() % 4 != 0 {
                return Err(format!("{}: raw data is not whole f32s", t.name));
            }
            t.raw_data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()
        };
        if data.len() != count {
            return Err(format!(
                "{}: {} values for shape {dims:?}",
                t.name,
                data.len()
            ));
        }
        out.insert(t.name, Tensor { dims, data });
    }
    Ok(Weights {
        tensors: out,
        nodes: graph.node,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(tensors: Vec<TensorProto>) -> Vec<u8> {
        ModelProto {
            graph: Some(GraphProto {
                node: vec![NodeProto {
                    input: vec!["x".into(), "w".into()],
                    op_type: "MatMul".into(),
                }],
                initializer: tensors,
            }),
        }
        .encode_to_vec()
    }

    #[test]
    fn raw_and_listed_data_are_read_and_checked() {
        let raw: Vec<u8> = [1.0f32, -2.5, 3.0, 0.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let bytes = model(vec![
            TensorProto {
                dims: vec![2, 2],
                data_type: FLOAT,
                name: "w".into(),
                raw_data: raw,
                ..Default::default()
            },
            TensorProto {
                dims: vec![3],
                data_type: FLOAT,
                name: "b".into(),
                float_data: vec![7.0, 8.0, 9.0],
                ..Default::default()
            },
            TensorProto {
                dims: vec![1],
                data_type: 7,
                name: "shape".into(),
                ..Default::default()
            },
        ]);
        let weights = read(&bytes).unwrap();
        assert_eq!(weights.nodes[0].op_type, "MatMul");
        assert_eq!(weights.nodes[0].input, ["x", "w"]);
        let t = weights.tensors;
        assert_eq!(t.len(), 2);
        assert_eq!(t["w"].dims, [2, 2]);
        assert_eq!(t["w"].data, [1.0, -2.5, 3.0, 0.5]);
        assert_eq!(t["b"].data, [7.0, 8.0, 9.0]);

        let short = model(vec![TensorProto {
            dims: vec![4],
            data_type: FLOAT,
            name: "w".into(),
            float_data: vec![1.0],
            ..Default::default()
        }]);
        assert!(read(&short).unwrap_err().contains("1 values for shape [4]"));
        assert!(read(b"\xff\xff\xff").is_err());
    }
}
