//! Limine handover rules: which base revision the loader actually used, and what
//! that means for the addresses and the command line it handed over.
//!
//! The kernel's Limine entry (kernel/src/boot/limine.rs) only gathers the raw words
//! and responses; every decision that depends on the loader's version is made here,
//! so each one is tested on the host.
//!
//! What the protocol says (PROTOCOL.md in the Limine repository):
//!
//! | loader                 | tag asking for 3        | RSDP      | command line in               |
//! |------------------------|-------------------------|-----------|-------------------------------|
//! | Limine 7.x, 8.x (≤ 2)  | left as is, no report   | HHDM      | executable-file response only |
//! | newer, supports 3      | answered, reports 3     | physical  | executable-cmdline response too |
//!
//! - The tag is three words: two magic numbers, then the revision asked for. A loader
//!   that supports that revision sets the third word to 0. A loader supporting base
//!   revision 3 or later also overwrites the second word (a magic number until then)
//!   with the revision it actually used, whether or not it was the one asked for.
//! - A loader that supports neither leaves the tag untouched and boots with a
//!   revision of its own choosing: Limine 8.x (and late 7.x) picks 2, 7.0 picks 1. Revisions 0 to 2 hand over the same things as far as this kernel cares
//!   (RSDP as an HHDM address), so the kernel assumes 2.
//! - The RSDP address is physical in base revision 3 only (2 and older, and 4 and
//!   later, give an HHDM address). Any HHDM address is at or above the HHDM offset
//!   and every physical address is below it, so a value of the other form than the
//!   revision promises is still converted correctly, with a warning.
//! - Modules and framebuffers are HHDM addresses in every revision.
//! - The command line is the executable file's string; newer loaders also answer
//!   the executable-cmdline request with a pointer to the same bytes.

/// Second word of the base revision tag as the kernel writes it; a loader that
/// reports the revision it used (base revision 3 and later) replaces it.
pub const TAG_UNREPORTED: u64 = 0x6a7b_3849_4453_6bdc;

/// The revision assumed when the loader neither answered the tag nor reported
/// what it used: the newest one Limine 8.x supports.
pub const ASSUMED_REVISION: u64 = 2;

/// The only base revision whose RSDP address is physical.
const PHYSICAL_RSDP_REVISION: u64 = 3;

/// How the kernel knows which base revision it was booted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevisionSource {
    /// The loader wrote the revision it used into the tag (base revision 3 and later).
    Reported,
    /// The loader answered the tag (supports the revision asked for) without
    /// reporting; the revision is the one asked for.
    Answered,
    /// The loader left the tag untouched (Limine 8.x and older): it predates
    /// revision 3, and the revision it used is assumed to be [`ASSUMED_REVISION`].
    Assumed,
}

/// The base revision the kernel was booted with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Revision {
    /// The revision number.
    pub number: u64,
    /// How it was found out.
    pub source: RevisionSource,
}

/// Which response the command line came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdlineSource {
    /// The executable-cmdline response (newer loaders).
    CmdlineResponse,
    /// The executable-file response's string (every Limine; the only place in 8.x).
    ExecutableFile,
    /// Neither response came back: the command line is empty.
    None,
}

/// What the loader handed over, as raw as the kernel read it.
#[derive(Clone, Copy, Debug)]
pub struct Raw<'a> {
    /// The base revision the kernel's tag asks for.
    pub asked: u64,
    /// The tag's third word after boot was 0 (the loader supports `asked`).
    pub tag_answered: bool,
    /// The tag's second word after boot.
    pub tag_loaded_word: u64,
    /// The HHDM response's offset.
    pub hhdm: Option<u64>,
    /// The RSDP response's address, as given.
    pub rsdp: Option<u64>,
    /// The executable-cmdline response's string (without its NUL).
    pub cmdline_response: Option<&'a [u8]>,
    /// The executable-file response's string (without its NUL).
    pub executable_file_string: Option<&'a [u8]>,
    /// The first module's address (HHDM) and size.
    pub module: Option<(u64, u64)>,
    /// The first framebuffer's address (HHDM).
    pub framebuffer: Option<u64>,
}

/// The handover in the kernel's terms: physical addresses and one command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handover<'a> {
    /// The base revision in force.
    pub revision: Revision,
    /// The HHDM offset.
    pub hhdm: u64,
    /// Physical address of the RSDP.
    pub rsdp: Option<u64>,
    /// The command line and where it came from.
    pub cmdline: &'a [u8],
    /// Where the command line came from.
    pub cmdline_source: CmdlineSource,
    /// Physical address and size of the first module.
    pub module: Option<(u64, u64)>,
    /// Physical address of the first framebuffer.
    pub framebuffer: Option<u64>,
    /// Something in the handover contradicted the protocol but could be used anyway.
    pub warnings: [Option<&'static str>; 2],
}

/// Why a Limine handover cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HandoverError {
    /// No HHDM response: the loader answered none of the kernel's requests.
    NoHhdm,
    /// The HHDM offset is not in the upper half, so HHDM and physical addresses
    /// cannot be told apart.
    BadHhdm(u64),
    /// The module or framebuffer address lies below the HHDM offset.
    NotHhdm(&'static str, u64),
}

impl core::fmt::Display for HandoverError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            HandoverError::NoHhdm => f.write_str(
                "no HHDM response: the loader answered none of the requests \
                 (is this Limine, and are the requests between their markers?)",
            ),
            HandoverError::BadHhdm(o) => write!(f, "HHDM offset {o:#x} is not in the upper half"),
            HandoverError::NotHhdm(what, a) => write!(f, "{what} address {a:#x} is not an HHDM address"),
        }
    }
}

/// The lowest HHDM offset the protocol can give (4-level paging's upper half).
const UPPER_HALF: u64 = 0xffff_8000_0000_0000;

/// Works out the base revision in force from the tag's words after boot.
pub fn revision(asked: u64, tag_answered: bool, tag_loaded_word: u64) -> Revision {
    if tag_loaded_word != TAG_UNREPORTED {
        Revision { number: tag_loaded_word, source: RevisionSource::Reported }
    } else if tag_answered {
        Revision { number: asked, source: RevisionSource::Answered }
    } else {
        Revision { number: ASSUMED_REVISION, source: RevisionSource::Assumed }
    }
}

/// Turns the raw handover into physical addresses and one command line.
pub fn normalise<'a>(raw: &Raw<'a>) -> Result<Handover<'a>, HandoverError> {
    let hhdm = raw.hhdm.ok_or(HandoverError::NoHhdm)?;
    if hhdm < UPPER_HALF {
        return Err(HandoverError::BadHhdm(hhdm));
    }
    let revision = revision(raw.asked, raw.tag_answered, raw.tag_loaded_word);
    let mut warnings = [None; 2];
    let mut warn = |w| {
        if let Some(slot) = warnings.iter_mut().find(|s| s.is_none()) {
            *slot = Some(w);
        }
    };
    if revision.source == RevisionSource::Reported && raw.tag_answered && revision.number != raw.asked {
        warn("Limine answered the base revision tag but reports another revision; using the reported one");
    }
    let rsdp = raw.rsdp.filter(|&a| a != 0).map(|a| {
        let physical = revision.number == PHYSICAL_RSDP_REVISION;
        let is_hhdm = a >= hhdm;
        if physical == is_hhdm {
            warn(if physical {
                "Limine gave the RSDP as an HHDM address where base revision 3 promises a physical one"
            } else {
                "Limine gave the RSDP as a physical address where its base revision promises an HHDM one"
            });
        }
        if is_hhdm {
            a - hhdm
        } else {
            a
        }
    });
    let to_phys = |what, a: u64| a.checked_sub(hhdm).ok_or(HandoverError::NotHhdm(what, a));
    let module = match raw.module {
        Some((a, len)) => Some((to_phys("module", a)?, len)),
        None => None,
    };
    let framebuffer = match raw.framebuffer {
        Some(a) => Some(to_phys("framebuffer", a)?),
        None => None,
    };
    let (cmdline, cmdline_source) = match (raw.cmdline_response, raw.executable_file_string) {
        (Some(c), _) => (c, CmdlineSource::CmdlineResponse),
        (None, Some(c)) => (c, CmdlineSource::ExecutableFile),
        (None, None) => (&[][..], CmdlineSource::None),
    };
    Ok(Handover { revision, hhdm, rsdp, cmdline, cmdline_source, module, framebuffer, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HHDM: u64 = 0xffff_8000_0000_0000;
    const RSDP: u64 = 0xf_52e0;

    /// What Limine 8.2.0 leaves for a kernel asking for revision 3 (booted by it).
    fn limine_8<'a>() -> Raw<'a> {
        Raw {
            asked: 3,
            tag_answered: false,
            tag_loaded_word: TAG_UNREPORTED,
            hhdm: Some(HHDM),
            rsdp: Some(HHDM + RSDP),
            cmdline_response: None,
            executable_file_string: Some(b"test"),
            module: Some((HHDM + 0x20_0000, 4096)),
            framebuffer: Some(HHDM + 0xfd00_0000),
        }
    }

    /// What a loader supporting revision 3 leaves, per the protocol document.
    fn limine_rev3<'a>() -> Raw<'a> {
        Raw {
            tag_answered: true,
            tag_loaded_word: 3,
            rsdp: Some(RSDP),
            cmdline_response: Some(b"test"),
            ..limine_8()
        }
    }

    #[test]
    fn limine_8_unanswered_tag_means_revision_2_hhdm_rsdp_and_file_cmdline() {
        let h = normalise(&limine_8()).unwrap();
        assert_eq!(h.revision, Revision { number: 2, source: RevisionSource::Assumed });
        assert_eq!(h.rsdp, Some(RSDP));
        assert_eq!(h.cmdline, b"test");
        assert_eq!(h.cmdline_source, CmdlineSource::ExecutableFile);
        assert_eq!(h.module, Some((0x20_0000, 4096)));
        assert_eq!(h.framebuffer, Some(0xfd00_0000));
        assert_eq!(h.warnings, [None, None]);
    }

    #[test]
    fn revision_3_reported_means_physical_rsdp_and_cmdline_response() {
        let h = normalise(&limine_rev3()).unwrap();
        assert_eq!(h.revision, Revision { number: 3, source: RevisionSource::Reported });
        assert_eq!(h.rsdp, Some(RSDP));
        assert_eq!(h.cmdline_source, CmdlineSource::CmdlineResponse);
        assert_eq!(h.warnings, [None, None]);
    }

    #[test]
    fn answered_without_report_uses_the_asked_revision() {
        let raw = Raw { tag_loaded_word: TAG_UNREPORTED, ..limine_rev3() };
        let h = normalise(&raw).unwrap();
        assert_eq!(h.revision, Revision { number: 3, source: RevisionSource::Answered });
        assert_eq!(h.rsdp, Some(RSDP));
        assert_eq!(h.warnings, [None, None]);
    }

    #[test]
    fn revision_4_and_later_give_the_rsdp_in_the_hhdm_again() {
        // A loader asked for 3 answers with 3; one asked for more may report 4..6.
        for n in 4..=6 {
            let raw = Raw { asked: 6, tag_loaded_word: n, rsdp: Some(HHDM + RSDP), ..limine_rev3() };
            let h = normalise(&raw).unwrap();
            assert_eq!(h.revision.number, n);
            assert_eq!(h.rsdp, Some(RSDP), "revision {n}");
        }
    }

    #[test]
    fn unanswered_but_reported_uses_the_reported_revision() {
        // A newer loader that does not support what was asked loads with >= 3 and says so.
        let raw = Raw { asked: 9, tag_answered: false, tag_loaded_word: 3, ..limine_rev3() };
        let h = normalise(&raw).unwrap();
        assert_eq!(h.revision, Revision { number: 3, source: RevisionSource::Reported });
        assert_eq!(h.rsdp, Some(RSDP));
        assert_eq!(h.warnings, [None, None]);
    }

    #[test]
    fn answered_with_another_reported_revision_warns_and_trusts_the_report() {
        let raw = Raw { tag_loaded_word: 4, rsdp: Some(HHDM + RSDP), ..limine_rev3() };
        let h = normalise(&raw).unwrap();
        assert_eq!(h.revision.number, 4);
        assert_eq!(h.rsdp, Some(RSDP));
        assert!(h.warnings[0].unwrap().contains("reports another revision"));
    }

    #[test]
    fn rsdp_of_the_wrong_form_is_still_converted_with_a_warning() {
        let raw = Raw { rsdp: Some(RSDP), ..limine_8() };
        let h = normalise(&raw).unwrap();
        assert_eq!(h.rsdp, Some(RSDP));
        assert!(h.warnings[0].unwrap().contains("physical address"));
        let raw = Raw { rsdp: Some(HHDM + RSDP), ..limine_rev3() };
        let h = normalise(&raw).unwrap();
        assert_eq!(h.rsdp, Some(RSDP));
        assert!(h.warnings[0].unwrap().contains("HHDM address"));
    }

    #[test]
    fn no_or_null_rsdp_is_none() {
        assert_eq!(normalise(&Raw { rsdp: None, ..limine_8() }).unwrap().rsdp, None);
        assert_eq!(normalise(&Raw { rsdp: Some(0), ..limine_rev3() }).unwrap().rsdp, None);
    }

    #[test]
    fn cmdline_response_wins_and_absent_responses_give_an_empty_line() {
        let raw = Raw { cmdline_response: Some(b"run"), executable_file_string: Some(b"test"), ..limine_8() };
        let h = normalise(&raw).unwrap();
        assert_eq!((h.cmdline, h.cmdline_source), (&b"run"[..], CmdlineSource::CmdlineResponse));
        let raw = Raw { cmdline_response: None, executable_file_string: None, ..limine_8() };
        let h = normalise(&raw).unwrap();
        assert_eq!((h.cmdline, h.cmdline_source), (&b""[..], CmdlineSource::None));
    }

    #[test]
    fn missing_or_low_hhdm_and_non_hhdm_pointers_are_errors() {
        assert_eq!(normalise(&Raw { hhdm: None, ..limine_8() }), Err(HandoverError::NoHhdm));
        assert_eq!(normalise(&Raw { hhdm: Some(0x1000), ..limine_8() }), Err(HandoverError::BadHhdm(0x1000)));
        let raw = Raw { module: Some((0x20_0000, 1)), ..limine_8() };
        assert_eq!(normalise(&raw), Err(HandoverError::NotHhdm("module", 0x20_0000)));
        let raw = Raw { framebuffer: Some(0xfd00_0000), ..limine_8() };
        assert_eq!(normalise(&raw), Err(HandoverError::NotHhdm("framebuffer", 0xfd00_0000)));
        assert!(HandoverError::NoHhdm.to_string().contains("is this Limine"));
    }

    #[test]
    fn revision_table() {
        use RevisionSource::*;
        let r = |a, ans, w| {
            let r = revision(a, ans, w);
            (r.number, r.source)
        };
        assert_eq!(r(3, false, TAG_UNREPORTED), (2, Assumed));
        assert_eq!(r(3, true, TAG_UNREPORTED), (3, Answered));
        assert_eq!(r(3, true, 3), (3, Reported));
        assert_eq!(r(3, false, 5), (5, Reported));
        assert_eq!(r(2, true, TAG_UNREPORTED), (2, Answered));
    }
}
