//! Converts dlib's serialised face recognition ResNet (`dlib_face_recognition_resnet_model_v1.dat`)
//! into an ONNX network that OpenCV's dnn module runs.
//!
//! dlib writes a network from the outside in: the loss layer, then one version number per
//! wrapper layer, the input layer, and then every layer's details from the input outwards.
//! Each convolution is followed by an `affine` layer (frozen batch norm), which is folded
//! into the convolution's weights. Residual units are recognised from the layer sequence
//! (`con affine relu con affine [avg_pool] add_prev relu`). Where dlib adds two tensors of
//! different shapes it treats the missing elements as zero; the converted graph reproduces
//! that with a zero-padded shortcut convolution (channels) and a `Pad` node (rows, columns).

use super::onnx_writer::{Attr, GraphBuilder, Tensor};

/// Why a dlib model file could not be converted.
#[derive(Debug, thiserror::Error)]
#[error("the dlib model file is not in the expected format: {0}")]
pub struct ConvertError(String);

fn bad(msg: impl Into<String>) -> ConvertError {
    ConvertError(msg.into())
}

/// The converted network and the per-channel means dlib subtracts from the RGB input.
pub struct ConvertedNet {
    pub onnx: Vec<u8>,
    /// Mean red, green and blue values; the input is `(pixel - mean) / 256`.
    pub mean_rgb: [f64; 3],
    /// Input side in pixels (150).
    pub input_size: i32,
    /// Length of the output vector (128).
    pub output_len: usize,
}

/// Reads dlib's serialisation primitives.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ConvertError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| bad("unexpected end of file"))?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// dlib's integer: a control byte (low nibble = byte count, bit 7 = negative) and
    /// little-endian magnitude bytes.
    fn int(&mut self) -> Result<i64, ConvertError> {
        let control = self.take(1)?[0];
        let n = (control & 0x0f) as usize;
        if n > 8 {
            return Err(bad("integer too wide"));
        }
        let mut v: u64 = 0;
        for (i, b) in self.take(n)?.iter().enumerate() {
            v |= (*b as u64) << (8 * i);
        }
        let v = v as i64;
        Ok(if control & 0x80 != 0 { -v } else { v })
    }
    fn usize(&mut self) -> Result<usize, ConvertError> {
        usize::try_from(self.int()?).map_err(|_| bad("negative size"))
    }
    fn string(&mut self) -> Result<String, ConvertError> {
        let n = self.usize()?;
        if n > 256 {
            return Err(bad("implausible string length"));
        }
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
    /// dlib's portable float: mantissa and base-2 exponent.
    fn real(&mut self) -> Result<f64, ConvertError> {
        let mantissa = self.int()?;
        let exponent = self.int()?;
        Ok(mantissa as f64 * 2f64.powi(exponent as i32))
    }
    fn bools(&mut self, n: usize) -> Result<(), ConvertError> {
        if self.take(n)?.iter().all(|c| *c == b'0' || *c == b'1') {
            Ok(())
        } else {
            Err(bad("expected layer flags"))
        }
    }
    /// A tensor (version 2: shape, then raw little-endian f32 values).
    fn tensor(&mut self) -> Result<Vec<f32>, ConvertError> {
        if self.int()? != 2 {
            return Err(bad("unsupported tensor version"));
        }
        let mut count: usize = 1;
        for _ in 0..4 {
            count = count
                .checked_mul(self.usize()?)
                .ok_or_else(|| bad("tensor too large"))?;
        }
        let bytes = self.take(
            count
                .checked_mul(4)
                .ok_or_else(|| bad("tensor too large"))?,
        )?;
        Ok(bytes
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
    /// An alias tensor: version 1 and a 4-D shape.
    fn alias(&mut self) -> Result<[usize; 4], ConvertError> {
        if self.int()? != 1 {
            return Err(bad("unsupported alias tensor version"));
        }
        Ok([self.usize()?, self.usize()?, self.usize()?, self.usize()?])
    }
    fn at_string(&self, s: &str) -> bool {
        let mut probe = Reader {
            buf: self.buf,
            pos: self.pos,
        };
        probe.usize().ok() == Some(s.len())
            && self.buf.get(probe.pos..probe.pos + s.len()) == Some(s.as_bytes())
    }
}

/// One layer of dlib's network, in input-to-output order.
enum Layer {
    Conv {
        /// Filters as (out, in, rows, cols).
        shape: [usize; 4],
        weights: Vec<f32>,
        bias: Vec<f32>,
        stride: usize,
        pad: usize,
    },
    Affine {
        gamma: Vec<f32>,
        beta: Vec<f32>,
    },
    Relu,
    AddPrev,
    MaxPool {
        size: usize,
        stride: usize,
        pad: usize,
    },
    AvgPool {
        size: usize,
        stride: usize,
        pad: usize,
    },
    /// Fully connected without bias; weights stored (inputs, outputs) row-major.
    Fc {
        inputs: usize,
        outputs: usize,
        weights: Vec<f32>,
    },
}

struct Parsed {
    mean_rgb: [f64; 3],
    input_size: usize,
    layers: Vec<Layer>,
}

fn parse(buf: &[u8]) -> Result<Parsed, ConvertError> {
    let mut r = Reader { buf, pos: 0 };
    if r.int()? != 1 || r.string()? != "loss_metric_2" {
        return Err(bad(
            "this is not dlib's face recognition model (no metric loss layer)",
        ));
    }
    r.real()?; // margin
    r.real()?; // distance threshold
               // One version number per wrapper layer until the input layer begins.
    let mut wrappers = 0;
    while !r.at_string("input_rgb_image_sized") {
        r.int()?;
        wrappers += 1;
        if wrappers > 10_000 {
            return Err(bad("no input layer found"));
        }
    }
    r.string()?;
    let mean_rgb = [r.real()?, r.real()?, r.real()?];
    let rows = r.usize()?;
    let cols = r.usize()?;
    if rows != cols {
        return Err(bad("the input is not square"));
    }
    let mut layers = Vec::new();
    while r.pos < buf.len() {
        let name = r.string()?;
        let layer = match name.as_str() {
            "con_4" => {
                let params = r.tensor()?;
                let _filters = r.usize()?;
                let _rows = r.usize()?;
                let _cols = r.usize()?;
                let stride = r.usize()?;
                let _stride_x = r.usize()?;
                let pad = r.usize()?;
                let _pad_x = r.usize()?;
                let shape = r.alias()?;
                let bias_shape = r.alias()?;
                for _ in 0..4 {
                    r.real()?; // learning-rate and weight-decay multipliers
                }
                let n: usize = shape.iter().product();
                let nb: usize = bias_shape.iter().product();
                if params.len() != n + nb || nb != shape[0] {
                    return Err(bad("convolution parameters do not match their shape"));
                }
                Layer::Conv {
                    shape,
                    weights: params[..n].to_vec(),
                    bias: params[n..].to_vec(),
                    stride,
                    pad,
                }
            }
            "affine_" => {
                let params = r.tensor()?;
                let gamma_shape = r.alias()?;
                r.alias()?;
                let mode = r.int()?;
                let k: usize = gamma_shape.iter().product();
                if mode != 0 || params.len() != 2 * k {
                    return Err(bad("unsupported affine layer"));
                }
                Layer::Affine {
                    gamma: params[..k].to_vec(),
                    beta: params[k..].to_vec(),
                }
            }
            "relu_" => Layer::Relu,
            "add_prev_" => Layer::AddPrev,
            "max_pool_2" | "avg_pool_2" => {
                let size = r.usize()?;
                let _cols = r.usize()?;
                let stride = r.usize()?;
                let _stride_x = r.usize()?;
                let pad = r.usize()?;
                let _pad_x = r.usize()?;
                if name == "max_pool_2" {
                    Layer::MaxPool { size, stride, pad }
                } else {
                    Layer::AvgPool { size, stride, pad }
                }
            }
            "fc_2" => {
                let outputs = r.usize()?;
                let inputs = r.usize()?;
                let params = r.tensor()?;
                r.alias()?;
                r.alias()?;
                let bias_mode = r.int()?;
                for _ in 0..4 {
                    r.real()?;
                }
                if bias_mode != 1 || params.len() != inputs * outputs {
                    return Err(bad("unsupported fully connected layer"));
                }
                Layer::Fc {
                    inputs,
                    outputs,
                    weights: params,
                }
            }
            other => return Err(bad(format!("unknown layer '{other}'"))),
        };
        // Wrapper state: three flags and three (empty) tensors.
        r.bools(3)?;
        for _ in 0..3 {
            r.tensor()?;
        }
        if layers.is_empty() {
            r.int()?; // the input-level wrapper's sample expansion factor
        }
        layers.push(layer);
    }
    Ok(Parsed {
        mean_rgb,
        input_size: rows,
        layers,
    })
}

fn out_size(n: usize, k: usize, stride: usize, pad: usize) -> usize {
    1 + (n + 2 * pad - k) / stride
}

/// The graph under construction: current value name, spatial size and channel count.
struct Cursor {
    value: String,
    size: usize,
    channels: usize,
}

/// Emits a convolution followed by its affine layer, folded into one Conv node.
fn conv_affine(
    g: &mut GraphBuilder,
    x: &Cursor,
    conv: &Layer,
    affine: &Layer,
) -> Result<Cursor, ConvertError> {
    let (
        Layer::Conv {
            shape,
            weights,
            bias,
            stride,
            pad,
        },
        Layer::Affine { gamma, beta },
    ) = (conv, affine)
    else {
        return Err(bad("expected a convolution followed by an affine layer"));
    };
    if shape[1] != x.channels || gamma.len() != shape[0] {
        return Err(bad("layer shapes do not chain"));
    }
    let per_filter = shape[1] * shape[2] * shape[3];
    let w: Vec<f32> = weights
        .iter()
        .enumerate()
        .map(|(i, v)| v * gamma[i / per_filter])
        .collect();
    let b: Vec<f32> = (0..shape[0])
        .map(|o| bias[o] * gamma[o] + beta[o])
        .collect();
    let dims: Vec<i64> = shape.iter().map(|d| *d as i64).collect();
    let wn = g.constant("w", Tensor { dims, data: w });
    let bn = g.constant(
        "b",
        Tensor {
            dims: vec![shape[0] as i64],
            data: b,
        },
    );
    let value = g.node(
        "Conv",
        &[&x.value, &wn, &bn],
        &[
            (
                "kernel_shape",
                Attr::Ints(vec![shape[2] as i64, shape[3] as i64]),
            ),
            ("strides", Attr::Ints(vec![*stride as i64; 2])),
            ("pads", Attr::Ints(vec![*pad as i64; 4])),
        ],
    );
    Ok(Cursor {
        value,
        size: out_size(x.size, shape[2], *stride, *pad),
        channels: shape[0],
    })
}

/// Average pooling plus zero channel padding, as one fixed convolution.
fn pooled_shortcut(
    g: &mut GraphBuilder,
    x: &Cursor,
    out_channels: usize,
    size: usize,
    stride: usize,
    pad: usize,
) -> Cursor {
    let mut w = vec![0f32; out_channels * x.channels * size * size];
    let weight = 1.0 / (size * size) as f32;
    for c in 0..x.channels.min(out_channels) {
        let base = (c * x.channels + c) * size * size;
        w[base..base + size * size].fill(weight);
    }
    let wn = g.constant(
        "w",
        Tensor {
            dims: vec![
                out_channels as i64,
                x.channels as i64,
                size as i64,
                size as i64,
            ],
            data: w,
        },
    );
    let bn = g.constant(
        "b",
        Tensor {
            dims: vec![out_channels as i64],
            data: vec![0.0; out_channels],
        },
    );
    let value = g.node(
        "Conv",
        &[&x.value, &wn, &bn],
        &[
            ("kernel_shape", Attr::Ints(vec![size as i64; 2])),
            ("strides", Attr::Ints(vec![stride as i64; 2])),
            ("pads", Attr::Ints(vec![pad as i64; 4])),
        ],
    );
    Cursor {
        value,
        size: out_size(x.size, size, stride, pad),
        channels: out_channels,
    }
}

/// Converts the contents of `dlib_face_recognition_resnet_model_v1.dat` to ONNX.
pub fn convert(dat: &[u8]) -> Result<ConvertedNet, ConvertError> {
    let parsed = parse(dat)?;
    let layers = &parsed.layers;
    let mut g = GraphBuilder::default();
    let mut x = Cursor {
        value: "data".into(),
        size: parsed.input_size,
        channels: 3,
    };
    let at = |i: usize| layers.get(i).ok_or_else(|| bad("the network ends early"));

    // Stem: conv, affine, relu, max pool.
    x = conv_affine(&mut g, &x, at(0)?, at(1)?)?;
    if !matches!(at(2)?, Layer::Relu) {
        return Err(bad("expected relu after the first convolution"));
    }
    x.value = g.node("Relu", &[&x.value], &[]);
    let Layer::MaxPool { size, stride, pad } = at(3)? else {
        return Err(bad("expected max pooling after the first convolution"));
    };
    x.value = g.node(
        "MaxPool",
        &[&x.value],
        &[
            ("kernel_shape", Attr::Ints(vec![*size as i64; 2])),
            ("strides", Attr::Ints(vec![*stride as i64; 2])),
            ("pads", Attr::Ints(vec![*pad as i64; 4])),
        ],
    );
    x.size = out_size(x.size, *size, *stride, *pad);

    // Residual units.
    let mut i = 4;
    while matches!(at(i)?, Layer::Conv { .. }) {
        let mut y = conv_affine(&mut g, &x, at(i)?, at(i + 1)?)?;
        if !matches!(at(i + 2)?, Layer::Relu) {
            return Err(bad("expected relu inside a residual unit"));
        }
        y.value = g.node("Relu", &[&y.value], &[]);
        let mut y = conv_affine(&mut g, &y, at(i + 3)?, at(i + 4)?)?;
        i += 5;
        let shortcut = if let Layer::AvgPool { size, stride, pad } = at(i)? {
            i += 1;
            pooled_shortcut(&mut g, &x, y.channels, *size, *stride, *pad)
        } else {
            if x.channels != y.channels || x.size != y.size {
                return Err(bad("an identity shortcut changes shape"));
            }
            Cursor { ..x }
        };
        if !matches!(at(i)?, Layer::AddPrev) || !matches!(at(i + 1)?, Layer::Relu) {
            return Err(bad("expected add and relu closing a residual unit"));
        }
        i += 2;
        if shortcut.size < y.size || shortcut.channels != y.channels {
            return Err(bad("unexpected residual shapes"));
        }
        if shortcut.size > y.size {
            // dlib adds tensors of different sizes as if the smaller were zero-padded
            // at the bottom and right.
            let extra = (shortcut.size - y.size) as i64;
            y.value = g.node(
                "Pad",
                &[&y.value],
                &[
                    ("mode", Attr::Str("constant")),
                    ("pads", Attr::Ints(vec![0, 0, 0, 0, 0, 0, extra, extra])),
                    ("value", Attr::Float(0.0)),
                ],
            );
        }
        let sum = g.node("Add", &[&y.value, &shortcut.value], &[]);
        x = Cursor {
            value: g.node("Relu", &[&sum], &[]),
            size: shortcut.size,
            channels: shortcut.channels,
        };
    }

    // Head: global average pooling and a fully connected layer without bias.
    if !matches!(at(i)?, Layer::AvgPool { size: 0, .. }) {
        return Err(bad("expected global average pooling"));
    }
    let Layer::Fc {
        inputs,
        outputs,
        weights,
    } = at(i + 1)?
    else {
        return Err(bad("expected the final fully connected layer"));
    };
    if *inputs != x.channels || i + 2 != layers.len() {
        return Err(bad("unexpected layers at the end of the network"));
    }
    let pooled = g.node("GlobalAveragePool", &[&x.value], &[]);
    let flat = g.node("Flatten", &[&pooled], &[]);
    // Gemm wants (outputs, inputs) with transB = 1.
    let mut wt = vec![0f32; inputs * outputs];
    for r in 0..*inputs {
        for c in 0..*outputs {
            wt[c * inputs + r] = weights[r * outputs + c];
        }
    }
    let wn = g.constant(
        "fc_w",
        Tensor {
            dims: vec![*outputs as i64, *inputs as i64],
            data: wt,
        },
    );
    let bn = g.constant(
        "fc_b",
        Tensor {
            dims: vec![*outputs as i64],
            data: vec![0.0; *outputs],
        },
    );
    let out = g.node("Gemm", &[&flat, &wn, &bn], &[("transB", Attr::Int(1))]);
    let side = parsed.input_size as i64;
    let onnx = g.finish(
        ("data", &[1, 3, side, side]),
        (&out, &[1, *outputs as i64]),
        9,
    );
    Ok(ConvertedNet {
        onnx,
        mean_rgb: parsed.mean_rgb,
        input_size: parsed.input_size as i32,
        output_len: *outputs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_dlib_integers() {
        let mut r = Reader {
            buf: &[0x01, 0x02, 0x02, 0x80, 0x12, 0x81, 0x1c],
            pos: 0,
        };
        assert_eq!(r.int().unwrap(), 2);
        assert_eq!(r.int().unwrap(), 0x1280);
        assert_eq!(r.int().unwrap(), -28);
    }

    #[test]
    fn rejects_files_that_are_not_the_dlib_model() {
        assert!(convert(b"not a model").is_err());
        assert!(convert(&[]).is_err());
    }
}
