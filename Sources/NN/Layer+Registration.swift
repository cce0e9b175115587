import TensorCore

// Automatic registration: a layer's parameters, buffers and sub-layers are found by reflection
// over its stored properties (mlx-swift's `Module`, PyTorch's `__setattr__` registry), so a
// custom layer lists nothing by hand. The rules follow PyTorch's state_dict:
//
// - a `Tensor` or non-nil `Tensor?` property is a parameter named after the property;
// - a `@Buffer` property is a buffer (saved, not trained);
// - a `Layer`, `Layer?`, an array of them (nested arrays and optionals too) or a
//   `[String: Layer]` dictionary (in key order) is a child; array elements are named like
//   PyTorch's `ModuleList`: property `blocks` gives children `blocks.0`, `blocks.1.0` (nested);
// - `@Key("name")` gives a property another state-dict key; `@Unregistered` leaves it out;
// - `lazy var` storage is left out: it is a cache, and whether it exists would depend on
//   whether it was read.
//
// Superclass properties come first, then each class's in declaration order. The result is
// computed once per instance and cached; see `invalidateRegistration()`.

/// Marks a stored tensor as a buffer: state that is saved and loaded with the weights
/// (`stateDict`, `loadStateDict`) but not trained, like batch norm's running mean
/// (PyTorch's `register_buffer`).
///
/// ```swift
/// @Buffer var steps = Tensor(scalar: 0)                    // state-dict key "steps"
/// @Buffer(key: "running_mean") var runningMean: Tensor      // assigned after super.init()
/// ```
///
/// With a `key` and no initial value, assign the property after `super.init()` (Swift allows
/// no property-wrapper setter before it); reading it before then stops with a message.
@propertyWrapper
public struct Buffer {
    private var value: Tensor?
    /// The state-dict key when it differs from the property name.
    public let key: String?

    public var wrappedValue: Tensor {
        get {
            guard let value else { fatalError("a @Buffer(key: \"\(key ?? "")\") property was read before it was assigned") }
            return value
        }
        set { value = newValue }
    }

    /// A buffer named after its property.
    public init(wrappedValue: Tensor) { value = wrappedValue; key = nil }
    /// A buffer saved under `key`.
    public init(wrappedValue: Tensor, key: String) { value = wrappedValue; self.key = key }
    /// A buffer saved under `key`, assigned later (after `super.init()`).
    public init(key: String) { value = nil; self.key = key }
}

/// Gives a parameter or child another state-dict key than its property name, for names
/// that are not Swift identifiers or clash with an API (`aux_logits`, `dropout1`).
///
/// ```swift
/// @Key("aux_logits") var auxiliary: AuxiliaryHead?    // assigned after super.init()
/// ```
///
/// As with `@Buffer(key:)`, a property without an initial value is assigned after
/// `super.init()`.
@propertyWrapper
public struct Key<Value> {
    private var value: Value?
    /// The state-dict key.
    public let key: String

    public var wrappedValue: Value {
        get {
            guard let value else { fatalError("a @Key(\"\(key)\") property was read before it was assigned") }
            return value
        }
        set { value = newValue }
    }

    public init(wrappedValue: Value, _ key: String) { value = wrappedValue; self.key = key }
    /// A property saved under `key`, assigned later (after `super.init()`).
    public init(_ key: String) { value = nil; self.key = key }
}

/// Leaves a stored tensor or layer out of registration: a reference to a layer owned
/// elsewhere (a shared or tied module), a cached constant, a scratch tensor. It is then
/// neither a parameter nor a child: not trained, not saved, not switched by `train()`.
@propertyWrapper
public struct Unregistered<Value> {
    public var wrappedValue: Value
    public init(wrappedValue: Value) { self.wrappedValue = wrappedValue }
}

/// What a property wrapper says about registration.
enum RegistrationRole { case automatic, buffer, excluded }

/// Implemented by the registration property wrappers, so reflection can read them.
protocol RegistrationAttribute {
    var registrationRole: RegistrationRole { get }
    var registrationKey: String? { get }
    /// The wrapped value, nil while unassigned.
    var registeredValue: Any? { get }
}

extension Buffer: RegistrationAttribute {
    var registrationRole: RegistrationRole { .buffer }
    var registrationKey: String? { key }
    var registeredValue: Any? { value }
}

extension Key: RegistrationAttribute {
    var registrationRole: RegistrationRole { .automatic }
    var registrationKey: String? { key }
    var registeredValue: Any? { value.map { $0 as Any } }
}

extension Unregistered: RegistrationAttribute {
    var registrationRole: RegistrationRole { .excluded }
    var registrationKey: String? { nil }
    var registeredValue: Any? { nil }
}

/// A value that holds layers: a layer, or an optional, array or string-keyed dictionary of
/// such values. The conditional conformances let a reflected `Any` be recognised by one cast,
/// without walking arrays of other things (a `[Float]` fails the cast at once).
protocol LayerContainer {
    func appendLayers(named name: String, to list: inout [(name: String, layer: Layer)])
}

extension Layer: LayerContainer {
    func appendLayers(named name: String, to list: inout [(name: String, layer: Layer)]) { list.append((name, self)) }
}

extension Optional: LayerContainer where Wrapped: LayerContainer {
    func appendLayers(named name: String, to list: inout [(name: String, layer: Layer)]) {
        self?.appendLayers(named: name, to: &list)
    }
}

extension Array: LayerContainer where Element: LayerContainer {
    func appendLayers(named name: String, to list: inout [(name: String, layer: Layer)]) {
        for (i, element) in enumerated() { element.appendLayers(named: "\(name).\(i)", to: &list) }
    }
}

extension Dictionary: LayerContainer where Key == String, Value: LayerContainer {
    func appendLayers(named name: String, to list: inout [(name: String, layer: Layer)]) {
        for key in keys.sorted() { self[key]!.appendLayers(named: "\(name).\(key)", to: &list) }
    }
}

/// A layer's registered parameters, buffers and children, found by reflection.
struct Registration {
    var parameters: [(name: String, tensor: Tensor)] = []
    var buffers: [(name: String, tensor: Tensor)] = []
    var children: [(name: String, layer: Layer)] = []

    /// Reflects over the stored properties of `layer`'s classes below `Layer`, superclasses first.
    init(reflecting layer: Layer) {
        var chain: [Mirror] = []
        var next: Mirror? = Mirror(reflecting: layer)
        while let mirror = next, ObjectIdentifier(mirror.subjectType) != ObjectIdentifier(Layer.self) {
            chain.append(mirror)
            next = mirror.superclassMirror
        }
        for mirror in chain.reversed() {
            for property in mirror.children {
                if let label = property.label { add(label, property.value) }
            }
        }
    }

    private mutating func add(_ label: String, _ value: Any) {
        guard !label.hasPrefix("$__lazy_storage_$_") else { return }
        var name = label, value = value
        if let attribute = value as? any RegistrationAttribute {
            guard attribute.registrationRole != .excluded, let wrapped = attribute.registeredValue else { return }
            // The backing storage of `@Wrapper var x` is `_x`.
            name = attribute.registrationKey ?? String(label.dropFirst())
            value = wrapped
            if attribute.registrationRole == .buffer {
                if let tensor = value as? Tensor { buffers.append((name, tensor)) }
                return
            }
        }
        if let tensor = value as? Tensor {
            parameters.append((name, tensor))
        } else if let container = value as? any LayerContainer {
            container.appendLayers(named: name, to: &children)
        }
    }
}

extension Layer {
    /// The cached registration of this layer, reflected on first use.
    var registration: Registration {
        registrationCache.withLock { cache in
            if let cache { return cache }
            let found = Registration(reflecting: self)
            cache = found
            return found
        }
    }

    /// Forgets the cached registration of this layer and all its descendants, so the next
    /// `children`, `parameters`, `stateDict()` reflect over the stored properties again.
    ///
    /// Registration is found once per layer and cached, since optimizers and training loops
    /// ask for the parameters every step. `let` properties cannot change, so the cache is only
    /// stale after a `var` property is given another layer or tensor; call this then:
    ///
    /// ```swift
    /// model.head = try Dense(512, 6)
    /// model.invalidateRegistration()
    /// ```
    ///
    /// A `didSet { invalidateRegistration() }` on the property does it automatically.
    public func invalidateRegistration() {
        registrationCache.withLock { $0 = nil }
        plans.removeAll()   // plans captured the old layers
        for child in children { child.layer.invalidateRegistration() }
    }
}
