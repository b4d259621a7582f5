module.exports = { testEnvironment: 'jsdom', maxWorkers: 1 };
