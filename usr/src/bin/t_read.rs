//! Ring-3 test: `read` from the serial console. The test driver types a line
//! into QEMU's serial port (boot/run-tests.sh); the kernel passes the expected
//! text as argv[1]. Reads until a newline and compares.

#![no_std]
#![no_main]

use usr::*;

entry!(main);

fn main(args: Args) -> i32 {
    let expected = args.get(1).unwrap_or("");
    let mut line = [0u8; 256];
    let mut len = 0;
    while len < line.len() {
        match read(abi::STDIN, &mut line[len..]) {
            Ok(0) => break,
            Ok(n) => {
                len += n;
                if line[..len].contains(&b'\n') {
                    break;
                }
            }
            Err(e) => {
                check!(false, "read: {e}");
                break;
            }
        }
    }
    let text = core::str::from_utf8(&line[..len]).unwrap_or("<not UTF-8>");
    let first = text.split('\n').next().unwrap_or("");
    check_eq!(first, expected, "line read from the serial console");
    // Bad buffers are refused before waiting for input.
    check_eq!(read(abi::STDIN, &mut []), Ok(0));
    check_eq!(read(7, &mut line), Err(Errno::INVAL));
    test::finish("t_read")
}
