import Glibc

/// The TCP side of a connection: resolve, connect with a deadline, hand the socket to
/// libssh2.
enum TCPSocket {
    /// Tries each address of `host` in turn (IPv4 and IPv6 as the resolver orders them),
    /// each with the whole `timeout`: a plain blocking connect() could hang for minutes on
    /// a silent network. The socket is close-on-exec so that no child process (sshfs,
    /// helper tools) keeps the connection open after we close it.
    static func connect(host: String, port: Int, timeout: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw SFTPError(.connect, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }

        var lastError = SFTPError(.connect, "cannot connect to \(host):\(port): no address")
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            cursor = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family,
                            Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue),
                            info.pointee.ai_protocol)
            if fd < 0 {
                lastError = SFTPError(.connect, "cannot create a socket for \(host):\(port): \(errorText(errno))")
                continue
            }
            do {
                try connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen, host: host, port: port, timeout: timeout)
                return fd
            } catch let error as SFTPError {
                Glibc.close(fd)
                lastError = error
            }
        }
        throw lastError
    }

    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>, _ length: socklen_t,
                                host: String, port: Int, timeout: Double) throws {
        if Glibc.connect(fd, address, length) == 0 { return }
        guard errno == EINPROGRESS else {
            throw SFTPError(.connect, "cannot connect to \(host):\(port): \(errorText(errno))")
        }
        let deadline = monotonicSeconds() + timeout
        while true {
            let remaining = deadline - monotonicSeconds()
            if remaining <= 0 {
                throw SFTPError(.timeout, "cannot connect to \(host):\(port): no answer within \(seconds(timeout))")
            }
            var entry = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&entry, 1, Int32(min(remaining * 1000, Double(Int32.max)).rounded(.up)))
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 {
                throw SFTPError(.connect, "cannot connect to \(host):\(port): \(errorText(errno))")
            }
            if ready == 0 { continue }
            var socketError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size)
            if socketError != 0 {
                throw SFTPError(.connect, "cannot connect to \(host):\(port): \(errorText(socketError))")
            }
            return
        }
    }
}

func errorText(_ code: Int32) -> String {
    String(cString: strerror(code))
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// "1.5 s", "30 s".
func seconds(_ value: Double) -> String {
    value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
}
