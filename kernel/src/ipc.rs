//! The kernel's IPC ports: one global `kcore::ipc::PortTable` (256 ports, 16 messages
//! of up to 4096 bytes each). Sends never block; receives are futures, served FIFO.
//! Kernel tasks use it now; the ipc_send/ipc_recv syscalls go through it too.

use kcore::ipc::PortTable;

/// All ports.
pub static PORTS: PortTable = PortTable::new();
