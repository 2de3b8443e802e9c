//! A PCM16 WAV file that exists only as a function of the read position, so hour-long inputs
//! need neither disk nor memory.

use std::io::{Read, Seek, SeekFrom};

/// Sample `i` of the interleaved data (frame `i / channels`, channel `i % channels`).
type SampleFn = Box<dyn Fn(usize) -> i16 + Send + Sync>;

/// A 16-bit PCM WAV of `seconds` whose samples come from a function.
pub struct VirtualWav {
    pos: u64,
    header: Vec<u8>,
    len: u64,
    sample: SampleFn,
}

impl VirtualWav {
    /// `seconds` of `channels` at `rate`, interleaved sample `i` being `sample(i)`.
    pub fn new(
        rate: u32,
        channels: u16,
        seconds: u64,
        sample: impl Fn(usize) -> i16 + Send + Sync + 'static,
    ) -> Self {
        let data_len = seconds * u64::from(rate) * u64::from(channels) * 2;
        let mut h = Vec::new();
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&(36 + data_len as u32).to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&16u32.to_le_bytes());
        h.extend_from_slice(&1u16.to_le_bytes());
        h.extend_from_slice(&channels.to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        h.extend_from_slice(&(channels * 2).to_le_bytes());
        h.extend_from_slice(&16u16.to_le_bytes());
        h.extend_from_slice(b"data");
        h.extend_from_slice(&(data_len as u32).to_le_bytes());
        let len = h.len() as u64 + data_len;
        Self {
            pos: 0,
            header: h,
            len,
            sample: Box::new(sample),
        }
    }

    fn byte_at(&self, pos: u64) -> u8 {
        if pos < self.header.len() as u64 {
            return self.header[pos as usize];
        }
        let offset = (pos - self.header.len() as u64) as usize;
        (self.sample)(offset / 2).to_le_bytes()[offset % 2]
    }
}

impl Read for VirtualWav {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (buf.len() as u64).min(self.len - self.pos) as usize;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            *b = self.byte_at(self.pos + i as u64);
        }
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for VirtualWav {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.pos = match pos {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => (self.len as i64 + d) as u64,
            SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
        };
        Ok(self.pos)
    }
}
