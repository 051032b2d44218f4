import CLibSSH2
import Glibc

/// The only process-wide state of SFTPSupport.
enum LibSSH2Setup {
    /// libssh2_init sets up libssh2's crypto backend (OpenSSL here) for the whole process
    /// and is not safe to run concurrently with itself or with any session, so it runs
    /// exactly once, before the first session: a static `let` is initialised lazily (no
    /// cost for programs that never use SFTP) and thread-safely by Swift.
    /// libssh2_exit is never called: a session may live until the process ends, and the
    /// operating system reclaims what libssh2_init allocated.
    private static let initStatus: Int32 = libssh2_init(0)

    static func prepare() throws {
        if initStatus != 0 {
            throw SFTPError(.connect, "libssh2 could not be initialised (libssh2_init returned \(initStatus))")
        }
    }
}

/// A plain mutex: SFTPConnection serialises its calls with it, because a libssh2 session
/// must never be used by two threads at once.
final class PthreadMutex: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() {
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
